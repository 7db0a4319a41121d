"""`python -m bot digest` over the local GitHub: one digest per week, the previous one minimized."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.core.digest_marker import parse_digest_marker
from bot.core.document import parse_document
from bot.store.folder import FolderStore
from lantern_world import (
    DOCUMENT,
    DOCUMENT_PATH,
    MAINTAINER,
    MEMBER,
    REPO,
    WEEK_47,
    WEEK_48,
)

COMMENTS = f"/repos/{REPO}/issues/*/comments"


@pytest.fixture
def pr_number(scheduler_env) -> int:
    def build() -> int:
        hub = scheduler_env.hub
        hub.push(REPO, "threat-model", {DOCUMENT_PATH: DOCUMENT}, user=MEMBER)
        number = hub.open_pr(REPO, "threat-model", user=MEMBER, title="Add a draft threat model")
        hub.comment(REPO, number, "Thanks, reviewing this week.", user=MAINTAINER)
        return number

    return scheduler_env.call(build)


@pytest.fixture
def questions(tmp_path: Path) -> Path:
    directory = tmp_path / "questions"
    FolderStore(directory).import_document(parse_document(DOCUMENT, DOCUMENT_PATH))
    return directory


def digest(number: int, questions: Path, *extra: str) -> int:
    return main(["digest", "--repo", REPO, "--pr", str(number), "--questions", str(questions), *extra])


def digests_on(lantern_hub, number: int) -> list[tuple[int, str, str | None, str]]:
    """(id, week, minimized reason, author) of each digest comment on the PR, oldest first."""
    found = []
    for comment in sorted(lantern_hub.hub.state.issue_comments.values(), key=lambda c: c.id):
        parsed = parse_digest_marker(comment.body)
        if comment.issue_number == number and parsed is not None:
            found.append((comment.id, parsed[0], comment.minimized_reason, comment.user))
    return found


def test_without_post_it_only_prints(scheduler_env, pr_number: int, questions: Path, capsys) -> None:
    assert digest(pr_number, questions, "--now", WEEK_48) == 0
    out = capsys.readouterr().out
    assert parse_digest_marker(out)[0] == "2026-W48"
    assert "**0 of 2 questions answered** in `draft-THREAT-MODEL.md`" in out  # document read at the PR head
    assert scheduler_env.hub.count_requests("POST", COMMENTS) == 0
    assert digests_on(scheduler_env, pr_number) == []


def test_dry_run_posts_nothing_even_with_post(scheduler_env, pr_number: int, questions: Path, capsys) -> None:
    assert digest(pr_number, questions, "--post", "--dry-run", "--now", WEEK_48) == 0
    assert parse_digest_marker(capsys.readouterr().out)[0] == "2026-W48"
    assert scheduler_env.hub.count_requests("POST", COMMENTS) == 0
    assert scheduler_env.hub.count_requests("POST", "/graphql") == 0


def test_two_runs_in_one_week_post_one_digest(scheduler_env, pr_number: int, questions: Path, capsys) -> None:
    assert digest(pr_number, questions, "--post", "--now", WEEK_48) == 0
    assert "posted the 2026-W48 digest" in capsys.readouterr().out
    # A restart, or a second scheduler a few hours later: it looks first and stops.
    assert digest(pr_number, questions, "--post", "--now", "2026-11-26T18:00:00Z") == 0
    assert "already posted" in capsys.readouterr().out
    posted = digests_on(scheduler_env, pr_number)
    assert [(week, author) for _, week, _, author in posted] == [("2026-W48", "threat-model-bot[bot]")]
    assert scheduler_env.hub.count_requests("POST", COMMENTS) == 1


def test_two_schedulers_racing_converge_on_one_digest(scheduler_env, pr_number: int, questions: Path) -> None:
    # Slow comment creation down so both schedulers look, find nothing, and both post.
    scheduler_env.call(scheduler_env.hub.faults.latency, COMMENTS, 1.5, "POST", None)
    results: list[int] = []
    runs = [threading.Thread(target=lambda: results.append(digest(pr_number, questions, "--post", "--now", WEEK_48)))
            for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=60)
    assert results == [0, 0]
    hub = scheduler_env.hub
    assert hub.count_requests("POST", COMMENTS, status=201) == 2  # the race really happened
    remaining = digests_on(scheduler_env, pr_number)
    assert len(remaining) == 1 and remaining[0][1] == "2026-W48"
    assert hub.count_requests("DELETE", f"/repos/{REPO}/issues/comments/*", status=204) == 1
    # The survivor is the older of the two, whichever scheduler posted it.
    deleted = [r for r in hub.requests if r.method == "DELETE"]
    assert all(int(r.path.rsplit("/", 1)[1]) > remaining[0][0] for r in deleted)


def test_next_weeks_digest_minimizes_the_previous_one(scheduler_env, pr_number: int, questions: Path, capsys) -> None:
    assert digest(pr_number, questions, "--post", "--now", WEEK_47) == 0
    # During the week a maintainer settles Q2; next week's digest reports the change.
    scheduler_env.call(scheduler_env.hub.comment, REPO, pr_number, "Q2: confirmed", user=MAINTAINER)
    token = scheduler_env.call(scheduler_env.hub.personal_token, MAINTAINER)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("GITHUB_APP_ID")
        patch.setenv("GITHUB_TOKEN", token)
        assert main(["sync", "--repo", REPO, "--pr", str(pr_number), "--questions", str(questions)]) == 0
    capsys.readouterr()
    assert digest(pr_number, questions, "--post", "--now", WEEK_48) == 0
    out = capsys.readouterr().out
    assert "minimized earlier digests" in out
    posted = digests_on(scheduler_env, pr_number)
    assert [(week, reason) for _, week, reason, _ in posted] == [("2026-W47", "OUTDATED"), ("2026-W48", None)]
    newest = scheduler_env.hub.state.issue_comments[posted[-1][0]].body
    _, figures = parse_digest_marker(newest)
    assert figures is not None and "Q2" in figures.confirmed
    assert scheduler_env.hub.count_requests("POST", "/graphql", status=200) == 1


def test_a_digest_with_an_unreadable_environment_fails_clearly(scheduler_env, pr_number: int, questions: Path,
                                                               monkeypatch, capsys) -> None:
    monkeypatch.delenv("GITHUB_APP_ID")
    assert digest(pr_number, questions, "--post") == 2
    assert "GITHUB_APP_ID" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("config", "expected"),
    [("digest:\n  enabled: false\n", "switched off"), ("dry_run: true\n", "dry_run")],
)
def test_the_repository_settings_can_hold_the_digest_back(scheduler_env, pr_number: int, questions: Path,
                                                          capsys, config: str, expected: str) -> None:
    scheduler_env.call(scheduler_env.hub.push, REPO, "main", {".github/threat-model-bot.yml": config}, user=MAINTAINER)
    assert digest(pr_number, questions, "--post", "--now", WEEK_48) == 0
    captured = capsys.readouterr()
    assert expected in captured.out + captured.err
    assert scheduler_env.hub.count_requests("POST", COMMENTS) == 0
    assert digests_on(scheduler_env, pr_number) == []
