"""`python -m bot sync`: the pure helpers first, then full runs over the local GitHub."""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.commands.sync import history_comments, questions_directory
from bot.core.document import parse_document
from bot.github.batch import PullRequestHistory
from bot.store.folder import FolderStore
from bot.store.pull_state import pull_directory
from lantern_world import MAINTAINER, MEMBER, REPO, app_id_of


def _user(login: str) -> dict:
    return {"login": login, "type": "User"}


def test_history_is_one_chronological_stream_without_pending_reviews() -> None:
    history = PullRequestHistory(
        review_comments=(
            {"id": 30, "body": "Q9: yes", "user": _user("a"), "created_at": "2026-06-11T09:00:00Z",
             "path": "draft-THREAT-MODEL.md", "line": 978, "html_url": "u30"},
            {"id": 31, "body": "agreed", "user": _user("b"), "created_at": "2026-06-11T09:00:00Z",
             "path": "draft-THREAT-MODEL.md", "line": 978, "in_reply_to_id": 30, "html_url": "u31"},
        ),
        reviews=(
            {"id": 40, "body": "overall fine", "user": _user("a"), "state": "COMMENTED",
             "submitted_at": "2026-06-12T10:00:00Z", "html_url": "u40"},
            {"id": 41, "body": "draft", "user": _user("c"), "state": "PENDING", "submitted_at": None},
        ),
        issue_comments=(
            {"id": 20, "body": "/questions help", "user": _user("c"), "created_at": "2026-06-10T08:00:00Z",
             "html_url": "u20"},
        ),
    )
    comments = history_comments(history)
    assert [(comment.kind, comment.id) for comment in comments] == [
        ("issue_comment", 20),
        ("review_comment", 30),  # same second as 31: the id breaks the tie
        ("review_comment", 31),
        ("review", 40),
    ]
    assert comments[2].in_reply_to_id == 30


def test_questions_directory_defaults_and_state_dir(tmp_path: Path) -> None:
    def namespace(**values) -> argparse.Namespace:
        return argparse.Namespace(**{"repo": "apache/cloudstack", "pr": 13293, "questions": None,
                                     "state_dir": None, **values})

    assert questions_directory(namespace()) == Path("questions")
    assert questions_directory(namespace(questions=tmp_path / "q")) == tmp_path / "q"
    assert questions_directory(namespace(state_dir=tmp_path)) == (
        tmp_path / "repos" / "apache" / "cloudstack" / "pulls" / "13293" / "questions"
    )


# --- over the local GitHub -----------------------------------------------------------------




DOCUMENT_PATH = "draft-THREAT-MODEL.md"
DOCUMENT = (Path(__file__).parent.parent / "fixtures" / "batch" / DOCUMENT_PATH).read_text(encoding="utf-8")
Q1_LINE, Q2_LINE = 23, 26  # where the fixture's questions start
CREDENTIAL_VARIABLES = ("GITHUB_TOKEN", "GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH")


@pytest.fixture
def github_env(lantern_hub, monkeypatch):
    """The CLI's environment pointed at the local GitHub, with a maintainer's token."""
    for variable in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("GITHUB_API_URL", lantern_hub.url)
    monkeypatch.setenv("GITHUB_TOKEN", lantern_hub.call(lantern_hub.hub.personal_token, MAINTAINER))
    return lantern_hub


def open_threat_model_pr(lantern_hub) -> int:
    def build() -> int:
        hub = lantern_hub.hub
        hub.push(REPO, "threat-model", {DOCUMENT_PATH: DOCUMENT}, user=MEMBER)
        return hub.open_pr(REPO, "threat-model", user=MEMBER, title="Add a draft threat model")

    return lantern_hub.call(build)


def imported_records(directory: Path) -> Path:
    FolderStore(directory).import_document(parse_document(DOCUMENT, DOCUMENT_PATH))
    return directory


def sync(number: int, *extra: str) -> int:
    return main(["sync", "--repo", REPO, "--pr", str(number), *extra])


def comparable(directory: Path) -> dict:
    """The records as plain data (every field, timestamps included)."""
    return json.loads(json.dumps(FolderStore(directory).load(), default=str))


def test_500_review_comments_sync_with_ceil_n_over_100_list_calls_per_kind(github_env, tmp_path: Path) -> None:
    number = open_threat_model_pr(github_env)

    def comment_500() -> None:
        for index in range(500):
            line = Q1_LINE if index % 2 == 0 else Q2_LINE
            github_env.hub.review_comment(REPO, number, DOCUMENT_PATH, line, f"note {index}", user=MEMBER)
        github_env.hub.comment(REPO, number, "Q2: confirmed", user=MAINTAINER)

    github_env.call(comment_500)
    questions = imported_records(tmp_path / "questions")
    assert sync(number, "--questions", str(questions)) == 0

    hub = github_env.hub
    state = hub.state
    counts = {
        f"/repos/{REPO}/pulls/{number}/comments": sum(1 for c in state.review_comments.values() if c.pr_number == number),
        f"/repos/{REPO}/pulls/{number}/reviews": sum(1 for r in state.reviews.values() if r.pr_number == number),
        f"/repos/{REPO}/issues/{number}/comments": sum(1 for c in state.issue_comments.values() if c.issue_number == number),
    }
    assert counts[f"/repos/{REPO}/pulls/{number}/comments"] == 500
    for path, total in counts.items():
        assert hub.count_requests("GET", path) == max(1, math.ceil(total / 100)), path
    assert hub.count_requests("GET", f"/repos/{REPO}/pulls/comments/*") == 0  # no per-item refetch
    assert comparable(questions)["Q2"]["status"] == "confirmed"


def test_sync_reaches_the_same_records_whatever_was_received_before(github_env, tmp_path: Path) -> None:
    number = open_threat_model_pr(github_env)
    hub = github_env.hub
    first = github_env.call(hub.review_comment, REPO, number, DOCUMENT_PATH, Q1_LINE,
                            "Yes, private networks only.", user=MAINTAINER)
    doomed = github_env.call(hub.comment, REPO, number, "Q2: confirmed", user=MAINTAINER)

    # An early run (or the webhooks that did arrive) saw this much...
    early = imported_records(tmp_path / "early")
    assert sync(number, "--questions", str(early)) == 0
    assert comparable(early)["Q2"]["status"] == "confirmed"

    # ...then the conversation moved on while webhooks were lost: a reply, a new verdict,
    # and the earlier verdict deleted.
    github_env.call(hub.reply, REPO, number, first, "Agreed, never on the open internet.", user=MEMBER)
    github_env.call(hub.delete_comment, REPO, doomed, user=MAINTAINER)
    github_env.call(hub.comment, REPO, number, "Q2: strike — floods are out of scope here", user=MAINTAINER)

    fresh = imported_records(tmp_path / "fresh")
    assert sync(number, "--questions", str(early)) == 0
    assert sync(number, "--questions", str(fresh)) == 0
    assert comparable(early) == comparable(fresh)
    q2 = comparable(fresh)["Q2"]
    assert doomed not in [answer["comment_id"] for answer in q2["answers"]]
    assert q2["status"] == "struck"


def test_sync_twice_changes_nothing(github_env, tmp_path: Path, capsys) -> None:
    number = open_threat_model_pr(github_env)
    github_env.call(github_env.hub.comment, REPO, number, "Q1: confirmed", user=MAINTAINER)
    questions = imported_records(tmp_path / "questions")
    assert sync(number, "--questions", str(questions)) == 0
    before = {path.name: path.read_bytes() for path in questions.iterdir()}
    capsys.readouterr()
    assert sync(number, "--questions", str(questions)) == 0
    assert "0 of 2 records changed" in capsys.readouterr().out
    assert {path.name: path.read_bytes() for path in questions.iterdir()} == before


def test_sync_as_the_app_with_a_key_file(github_env, rsa_key_pair, tmp_path: Path, monkeypatch) -> None:
    number = open_threat_model_pr(github_env)
    github_env.call(github_env.hub.comment, REPO, number, "Q1: confirmed", user=MAINTAINER)
    key = tmp_path / "app.pem"
    key.write_bytes(rsa_key_pair.private_pem)
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.setenv("GITHUB_APP_ID", str(app_id_of(github_env)))
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(key))
    questions = imported_records(tmp_path / "questions")
    assert sync(number, "--questions", str(questions)) == 0
    assert comparable(questions)["Q1"]["status"] == "confirmed"
    hub = github_env.hub
    assert hub.count_requests("POST", "/app/installations/*/access_tokens", status=201) == 1
    listed = [r for r in hub.requests if r.path == f"/repos/{REPO}/issues/{number}/comments"]
    assert listed and all(r.caller == "threat-model-bot[bot]" for r in listed)


def test_sync_with_the_service_state_dir_keeps_the_thread_map(github_env, tmp_path: Path) -> None:
    number = open_threat_model_pr(github_env)
    root = github_env.call(github_env.hub.review_comment, REPO, number, DOCUMENT_PATH, Q2_LINE,
                           "Yes: that is the operator's problem.", user=MAINTAINER)
    state_dir = tmp_path / "state"
    imported_records(pull_directory(state_dir, REPO, number) / "questions")
    assert sync(number, "--state-dir", str(state_dir)) == 0
    saved = json.loads((pull_directory(state_dir, REPO, number) / "state.json").read_text(encoding="utf-8"))
    assert saved["threads"] == {str(root): "Q2"}


def test_sync_without_credentials_names_the_variables(github_env, tmp_path: Path, monkeypatch, capsys) -> None:
    number = open_threat_model_pr(github_env)
    monkeypatch.delenv("GITHUB_TOKEN")
    questions = imported_records(tmp_path / "questions")
    before = len(github_env.hub.requests)
    assert sync(number, "--questions", str(questions)) == 2
    error = capsys.readouterr().err
    assert "GITHUB_TOKEN" in error and "GITHUB_APP_ID" in error and "GITHUB_PRIVATE_KEY" in error
    assert len(github_env.hub.requests) == before


def test_sync_without_records_says_to_import_first(github_env, tmp_path: Path, capsys) -> None:
    number = open_threat_model_pr(github_env)
    assert sync(number, "--questions", str(tmp_path / "empty")) == 1
    assert "python -m bot import" in capsys.readouterr().err


def test_sync_reports_a_github_failure_plainly(github_env, tmp_path: Path, capsys) -> None:
    questions = imported_records(tmp_path / "questions")
    assert sync(404, "--questions", str(questions)) == 1
    assert "GitHub answered 404" in capsys.readouterr().err
