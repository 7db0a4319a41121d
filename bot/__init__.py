"""A GitHub App that carries a security threat model through maintainer review."""
