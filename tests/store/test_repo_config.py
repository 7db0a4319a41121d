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


# Six lines of nine aliases each: 9**6 "lol"s once expanded. Written for this test.
YAML_BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9) if previous else ', '.join(['lol'] * 9)}]\n"
    for previous, name in zip(["", "a", "b", "c", "d", "e"], ["a", "b", "c", "d", "e", "f"], strict=True)
)


@pytest.mark.parametrize(
    "text, says",
    [
        (YAML_BOMB, "anchors and aliases"),
        ("document: &doc THREAT-MODEL.md\n", "anchors and aliases"),
        ("a: " + "[" * 3000 + "]" * 3000 + "\n", "nested more than"),
        ("track:\n" + "".join("  " * depth + f"k{depth}:\n" for depth in range(1, 40)), "nested more than"),
        ("# padding\n" * 2000, "bytes"),
    ],
)
def test_hostile_files_fail_fast_with_a_short_error(text: str, says: str) -> None:
    with pytest.raises(RepoConfigError) as caught:
        load_repo_settings(text)
    assert says in str(caught.value)
    assert len(caught.value.as_markdown()) < 600


def test_the_error_comment_stays_short_whatever_the_values() -> None:
    text = "dry_run: " + "y" * 7000 + "\n" + "".join(f"k{n}: 1\n" for n in range(100))
    with pytest.raises(RepoConfigError) as caught:
        load_repo_settings(text)
    body = caught.value.as_markdown()
    assert len(body) < 6000 and "more problems" in body
