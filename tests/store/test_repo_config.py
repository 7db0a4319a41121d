"""load_repo_settings: YAML text to RepoSettings; YAML errors carry a line, shape errors a key path."""
from __future__ import annotations

import pytest

from bot.core.settings import RepoSettings
from bot.store.repo_config import RepoConfigError, load_repo_settings


def test_no_file_or_an_empty_file_gives_defaults() -> None:
    assert load_repo_settings(None) == RepoSettings()
    assert load_repo_settings("# nothing configured yet\n") == RepoSettings()


def test_a_typical_file_is_read_with_yaml_12_scalars() -> None:
    settings = load_repo_settings(
        "document: draft-THREAT-MODEL.md\n"
        "maintainers:\n"
        "  permission: write\n"
        "  logins: [DaanHoogland]\n"
        "digest:\n"
        "  day: Thursday\n"
        "  time: 09:30      # unquoted: YAML 1.2 keeps it a string, not sexagesimal 570\n"
        "dry_run: true\n"
    )
    assert settings.document == "draft-THREAT-MODEL.md"
    assert settings.maintainers.permission == "write"
    assert settings.maintainers.logins == ("DaanHoogland",)
    assert (settings.digest.day, settings.digest.time) == ("thursday", "09:30")
    assert settings.dry_run is True


def test_a_yaml_syntax_error_names_its_line() -> None:
    with pytest.raises(RepoConfigError) as caught:
        load_repo_settings("document: x.md\ndigest:\n  day: [monday\n  time: 10:00\n")
    (problem,) = caught.value.problems
    assert "line 4" in problem or "line 5" in problem
    assert caught.value.path == ".github/threat-model-bot.yml"


def test_a_duplicate_key_is_a_syntax_error_not_a_silent_override() -> None:
    with pytest.raises(RepoConfigError) as caught:
        load_repo_settings("dry_run: true\ndry_run: false\n")
    assert "line 2" in caught.value.problems[0]


def test_shape_errors_are_listed_together_in_one_comment() -> None:
    with pytest.raises(RepoConfigError) as caught:
        load_repo_settings("retire: burn\ndry_run: yes\ntrack:\n  prs: every\n")
    body = caught.value.as_markdown()
    assert body.count("\n- ") == 3
    for path in ("`retire`", "`dry_run`", "`track.prs`"):
        assert path in body
