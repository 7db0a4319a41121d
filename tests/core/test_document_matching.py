"""Which file of a PR is the threat model: one rule for the service and the CLI."""
from __future__ import annotations

import pytest

from bot.core.document_matching import (
    AmbiguousDocument,
    document_among,
    matches_document,
)

DEFAULT_GLOB = "**/*THREAT*MODEL*.md"


def test_the_default_glob_matches_root_and_nested_files() -> None:
    assert document_among(["README.md", "draft-THREAT-MODEL.md"], DEFAULT_GLOB) == "draft-THREAT-MODEL.md"
    assert document_among(["src/x.java", "docs/security/THREAT_MODEL.md"], DEFAULT_GLOB) == "docs/security/THREAT_MODEL.md"
    assert document_among(["README.md", "SECURITY.md"], DEFAULT_GLOB) is None


def test_an_exact_configured_path_names_one_file() -> None:
    files = ["THREAT_MODEL.md", "security/THREAT-MODEL.md"]
    assert document_among(files, "security/THREAT-MODEL.md") == "security/THREAT-MODEL.md"
    assert not matches_document("other/security/THREAT-MODEL.md", "security/THREAT-MODEL.md")


def test_matching_is_case_sensitive_as_paths_in_git_are() -> None:
    assert document_among(["docs/threat-model.md"], DEFAULT_GLOB) is None


def test_a_path_listed_twice_is_one_file() -> None:
    assert document_among(["THREAT-MODEL.md", "THREAT-MODEL.md"], DEFAULT_GLOB) == "THREAT-MODEL.md"


def test_a_glob_matching_several_files_is_an_error_naming_them() -> None:
    files = ["README.md", "docs/THREAT-MODEL.md", "src/Main.java"]
    with pytest.raises(AmbiguousDocument) as caught:
        document_among(files, "**/*")
    assert caught.value.matches == files
    assert "`README.md`" in str(caught.value) and "`docs/THREAT-MODEL.md`" in str(caught.value)
