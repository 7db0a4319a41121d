"""`python -m bot digest --family` over the local GitHub: satellites rebuilt from their PRs."""
from __future__ import annotations

from pathlib import Path

from bot.__main__ import main
from bot.core.digest_marker import parse_family_digest_marker
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

SATELLITE = "lantern/lantern-go"
WITHOUT_PR = "lantern/lantern-ui"
SATELLITE_DOC = "THREAT_MODEL.md"
SATELLITE_TEXT = (Path(__file__).parent.parent / "fixtures" / "documents" / "numbered-list-shaped.md").read_text(encoding="utf-8")
OPEN_QUESTION = "4"
FAMILY_CONFIG = f"family:\n  satellites: [{SATELLITE}, {WITHOUT_PR}]\n"


def open_family(hub, *, config: str | None = FAMILY_CONFIG) -> tuple[int, int]:
    """The canonical PR and a satellite PR where a maintainer confirmed one question inline."""
    if config is not None:
        hub.push(REPO, "main", {".github/threat-model-bot.yml": config}, user=MAINTAINER)
    hub.push(REPO, "threat-model", {DOCUMENT_PATH: DOCUMENT}, user=MEMBER)
    canonical = hub.open_pr(REPO, "threat-model", user=MEMBER, title="Add a draft threat model")
    for repo in (SATELLITE, WITHOUT_PR):
        hub.create_repo(repo)
    hub.push(SATELLITE, "delta", {SATELLITE_DOC: SATELLITE_TEXT}, user=MEMBER)
    satellite = hub.open_pr(SATELLITE, "delta", user=MEMBER, title="Add the delta threat model")
    line = next(q.span.start_line for q in parse_document(SATELLITE_TEXT, SATELLITE_DOC).questions if q.id == OPEN_QUESTION)
    root = hub.review_comment(SATELLITE, satellite, SATELLITE_DOC, line, "Is this the full set?", user=MEMBER)
    hub.reply(SATELLITE, satellite, root, "/confirm", user=MAINTAINER)
    return canonical, satellite


def family_digest(number: int, questions: Path, *extra: str) -> int:
    return main(["digest", "--family", "--repo", REPO, "--pr", str(number), "--questions", str(questions), *extra])


def canonical_questions(tmp_path: Path) -> Path:
    directory = tmp_path / "questions"
    FolderStore(directory).import_document(parse_document(DOCUMENT, DOCUMENT_PATH))
    return directory


def family_digests_on(threaded_hub, number: int) -> list[tuple[int, str, str | None]]:
    found = []
    for comment in sorted(threaded_hub.hub.state.issue_comments.values(), key=lambda c: c.id):
        parsed = parse_family_digest_marker(comment.body)
        if comment.repo == REPO and comment.issue_number == number and parsed is not None:
            found.append((comment.id, parsed[0], comment.minimized_reason))
    return found


def test_it_prints_one_digest_for_the_family_with_satellites_rebuilt_from_their_history(
    scheduler_env, tmp_path: Path, capsys
) -> None:
    canonical, satellite = scheduler_env.call(open_family, scheduler_env.hub)

    assert family_digest(canonical, canonical_questions(tmp_path), "--now", WEEK_48) == 0

    out = capsys.readouterr().out
    week, figures = parse_family_digest_marker(out)
    assert week == "2026-W48"
    assert set(figures) == {REPO, SATELLITE, WITHOUT_PR}
    assert figures[SATELLITE].confirmed == frozenset({OPEN_QUESTION})  # the inline /confirm, replayed
    assert figures[REPO].total == 2
    assert f"/{SATELLITE}/pull/{satellite}" in out
    assert "no open threat-model PR found" in out
    assert scheduler_env.hub.count_requests("POST", f"/repos/{REPO}/issues/*/comments") == 0


def test_posting_twice_in_a_week_leaves_one_and_next_week_minimizes_it(scheduler_env, tmp_path: Path, capsys) -> None:
    canonical, _ = scheduler_env.call(open_family, scheduler_env.hub)
    questions = canonical_questions(tmp_path)

    assert family_digest(canonical, questions, "--post", "--now", WEEK_47) == 0
    assert family_digest(canonical, questions, "--post", "--now", WEEK_47) == 0
    assert "already posted" in capsys.readouterr().out
    (first,) = family_digests_on(scheduler_env, canonical)

    assert family_digest(canonical, questions, "--post", "--now", WEEK_48) == 0
    digests = family_digests_on(scheduler_env, canonical)
    assert [(week, reason is not None) for _, week, reason in digests] == [("2026-W47", True), ("2026-W48", False)]
    assert digests[0][0] == first[0]


def test_a_repository_without_a_family_is_told_how_to_configure_one(scheduler_env, tmp_path: Path, capsys) -> None:
    canonical, _ = scheduler_env.call(lambda: open_family(scheduler_env.hub, config=None))

    assert family_digest(canonical, canonical_questions(tmp_path), "--post", "--now", WEEK_48) == 1

    assert "family:" in capsys.readouterr().err
    assert family_digests_on(scheduler_env, canonical) == []


def test_a_satellite_the_app_cannot_read_is_a_row_not_a_failure(scheduler_env, tmp_path: Path, capsys) -> None:
    elsewhere = "elsewhere/lantern-rs"  # the App is not installed on this account

    def build() -> int:
        hub = scheduler_env.hub
        hub.add_org("elsewhere", {MEMBER: "member"})
        hub.create_repo(elsewhere)
        return open_family(hub, config=f"family:\n  satellites: [{SATELLITE}, {elsewhere}, {REPO}]\n")[0]

    canonical = scheduler_env.call(build)

    assert family_digest(canonical, canonical_questions(tmp_path), "--now", WEEK_48) == 0

    out = capsys.readouterr().out
    _, figures = parse_family_digest_marker(out)
    assert set(figures) == {REPO, SATELLITE, elsewhere}  # the canonical one named as a satellite: once
    assert f"`{elsewhere}` | satellite | — | — | cannot be read:" in out
