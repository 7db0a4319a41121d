"""The local GitHub held to GitHub's own OpenAPI descriptions (`../shared/reference/openapi`).

`plugin` records every exchange of every local GitHub during each test and fails the test on a
disagreement; `description` loads and indexes the descriptions; `checks` says what differs.
"""
