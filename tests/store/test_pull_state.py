from pathlib import Path

from bot.store.pull_state import PullState, load_pull_state, pull_directory, save_pull_state, tracked_pulls


def test_state_round_trips_and_defaults_when_absent(tmp_path: Path) -> None:
    fresh = load_pull_state(tmp_path, "apache/cloudstack", 7)
    assert fresh == PullState(repo="apache/cloudstack", number=7)

    fresh.spans["Q9"] = [978, 988]
    fresh.threads["101"] = "Q9"
    fresh.deleted_comments.append(55)
    save_pull_state(tmp_path, fresh)

    again = load_pull_state(tmp_path, "apache/cloudstack", 7)
    assert again.spans == {"Q9": [978, 988]}
    assert again.threads == {"101": "Q9"}
    assert again.deleted_comments == [55]
    assert not list(pull_directory(tmp_path, "apache/cloudstack", 7).glob(".state.*"))


def test_tracked_pulls_lists_every_saved_pull(tmp_path: Path) -> None:
    save_pull_state(tmp_path, PullState(repo="apache/cloudstack", number=7))
    save_pull_state(tmp_path, PullState(repo="apache/cloudstack-go", number=149))
    assert tracked_pulls(tmp_path) == [("apache/cloudstack", 7), ("apache/cloudstack-go", 149)]


def test_unknown_keys_from_a_newer_version_are_ignored(tmp_path: Path) -> None:
    directory = pull_directory(tmp_path, "o/r", 1)
    directory.mkdir(parents=True)
    (directory / "state.json").write_text('{"repo": "o/r", "number": 1, "future": true}')
    assert load_pull_state(tmp_path, "o/r", 1).repo == "o/r"


def test_a_repository_name_github_would_not_give_cannot_leave_the_state_directory(tmp_path: Path) -> None:
    import pytest

    for bad in ("../etc", "apache/..", "apache/../../x", "apache", "/abs/path", "a b/c"):
        with pytest.raises(ValueError):
            pull_directory(tmp_path, bad, 1)
    assert pull_directory(tmp_path, "apache/cloudstack-go", 149).is_relative_to(tmp_path)
