"""Folding accepted answers: one commit whatever k is, a branch that moves, and fork PRs."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from e2e_world import AUTHOR, BRANCH, DOC, FIXTURE, MAINTAINERS, Review, answers_by, thread_on

from bot.core.document import parse_document
from bot.sandbox import REPO, sandbox

FOLDABLE = ("Q3", "Q6", "Q10", "Q5", "Q8")


async def _confirm(review: Review, questions: tuple[str, ...]) -> dict[str, int]:
    roots = {}
    for question in questions:
        roots[question] = await thread_on(review, question)
        review.hub.reply(REPO, review.number, roots[question], "/confirm", user="daan")
    await review.box.settle()
    return roots


def _branch_commits(hub, repo: str, branch: str, stop_at: int = 20) -> list:
    store = hub.state.repo_named(repo).store
    sha = hub.head_sha(repo, branch)
    chain = []
    while sha and len(chain) < stop_at:
        commit = store.commits[sha]
        chain.append(commit)
        sha = commit.parents[0] if commit.parents else None
    return chain


@pytest.mark.parametrize("k", [1, 5])
async def test_folding_k_accepted_answers_costs_one_commit(review: Review, k: int) -> None:
    hub = review.hub
    chosen = FOLDABLE[:k]
    folded_at_import = {q for q, record in review.records().items() if record["status"] == "folded"}
    roots = await _confirm(review, chosen)
    before = len(hub.requests)
    hub.comment(REPO, review.number, "/accept", user="vish")
    await review.box.settle()
    assert hub.count_requests("POST", "/repos/*/git/commits") == 1
    assert [r for r in hub.requests[before:] if r.method == "PATCH" and "/git/refs/" in r.path], "one ref update"
    records = review.records()
    assert {q for q in records if records[q]["status"] == "folded"} - folded_at_import == set(chosen)
    head = _branch_commits(hub, REPO, BRANCH, 1)[0]
    assert head.message.startswith("Fold maintainer answers") and all(q in head.message for q in chosen)
    assert {records[q]["folded_in"] for q in chosen} == {head.sha}
    text = hub.file(REPO, DOC, ref=BRANCH)
    for question in chosen:
        assert f"*(inferred — §14 {question})*" not in text, question
        assert hub.state.thread_of(roots[question]).resolved


async def test_a_push_between_plan_and_commit_is_re_planned_and_both_changes_land(review: Review) -> None:
    hub = review.hub
    await _confirm(review, ("Q3",))
    # Slow the fold's commit creation; the author pushes meanwhile, so the ref update is not a fast-forward.
    fault = hub.faults.latency("/repos/*/git/commits", 0.5, method="POST", times=1)
    hub.comment(REPO, review.number, "/accept", user="vish")
    for _ in range(300):
        if fault.hits:
            break
        await asyncio.sleep(0.01)
    assert fault.hits == 1
    authors_text = FIXTURE.read_text(encoding="utf-8").replace("## §2 Scope", "An author's note, pushed mid-fold.\n\n## §2 Scope", 1)
    hub.push(REPO, BRANCH, {DOC: authors_text}, user=AUTHOR, message="A note")
    await review.box.settle()

    text = hub.file(REPO, DOC, ref=BRANCH)
    assert "An author's note, pushed mid-fold." in text
    assert "*(inferred — §14 Q3)*" not in text and "§14 Q3)*" in text
    chain = _branch_commits(hub, REPO, BRANCH, 3)
    assert chain[0].message.startswith("Fold maintainer answers") and chain[1].message == "A note"
    folds = [c for c in _branch_commits(hub, REPO, BRANCH) if c.message.startswith("Fold maintainer answers")]
    assert len(folds) == 1, "one fold commit landed"
    assert review.records()["Q3"]["status"] == "folded" and review.records()["Q3"]["folded_in"] == chain[0].sha
    assert await review.box.failed_deliveries() == 0


@pytest.fixture
async def fork_review(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Review]:
    async with sandbox(tmp_path / "state", maintainers=MAINTAINERS) as box:
        box.hub.fork(REPO, AUTHOR)
        fork = f"{AUTHOR}/cloudstack"
        box.hub.push(fork, BRANCH, {DOC: FIXTURE.read_text(encoding="utf-8")}, user=AUTHOR, message="Add a draft threat model")
        number = box.hub.open_pr(REPO, f"{AUTHOR}:{BRANCH}", user=AUTHOR, title="Threat model from a fork", maintainer_can_modify=request.param)
        await box.settle()
        yield Review(box, number, tmp_path / "state")


@pytest.mark.parametrize("fork_review", [True], indirect=True)
async def test_a_fork_pr_open_to_maintainer_edits_gets_the_fold_on_the_fork_branch(fork_review: Review) -> None:
    review, hub = fork_review, fork_review.hub
    assert review.line_of("Q3") == 136
    await _confirm(review, ("Q3",))
    hub.comment(REPO, review.number, "/accept", user="vish")
    await review.box.settle()
    text = hub.file(f"{AUTHOR}/cloudstack", DOC, ref=BRANCH)
    assert "*(inferred — §14 Q3)*" not in text and "§14 Q3)*" in text
    assert review.records()["Q3"]["folded_in"] == hub.head_sha(f"{AUTHOR}/cloudstack", BRANCH)
    assert hub.count_requests("POST", "/repos/asf-sec/cloudstack/git/commits") == 1


@pytest.mark.parametrize("fork_review", [False], indirect=True)
async def test_a_fork_pr_closed_to_maintainer_edits_gets_the_fold_on_a_branch_here_and_one_comment(fork_review: Review) -> None:
    """The App cannot push to the fork: the fold is committed on a branch of the base repository,
    a PR against the fork is tried (the App has no access there), and the PR gets one comment naming
    the branch with the diff. The fork branch is untouched; the answers stay accepted, not folded."""
    review, hub = fork_review, fork_review.hub
    fork = f"{AUTHOR}/cloudstack"
    fork_head = hub.head_sha(fork, BRANCH)
    await _confirm(review, ("Q3",))
    hub.comment(REPO, review.number, "/accept", user="vish")
    await review.box.settle()
    assert hub.head_sha(fork, BRANCH) == fork_head, "nothing was pushed to the fork"
    fold_branch = f"threat-model-bot/fold-pr-{review.number}"
    folded_text = hub.file(REPO, DOC, ref=fold_branch)
    assert folded_text is not None and "*(inferred — §14 Q3)*" not in folded_text
    comments = [c for c in hub.state.issue_comments.values() if c.user.endswith("[bot]") and "fold-branch" in c.body]
    assert len(comments) == 1 and fold_branch in comments[0].body and "allow edits by maintainers" in comments[0].body
    record = review.records()["Q3"]
    assert record["status"] == "confirmed" and not record.get("folded_in"), "not folded until it is in the PR's branch"
    assert await review.box.failed_deliveries() == 0

    # A second /accept with nothing new proposes the same fold again: no second branch comment.
    hub.comment(REPO, review.number, "/accept", user="daan")
    await review.box.settle()
    assert len([c for c in hub.state.issue_comments.values() if c.user.endswith("[bot]") and "fold-branch" in c.body]) == 1

    # The author allows maintainer edits (as on GitHub, a PATCH of the PR); the next /accept folds on the fork.
    async with aiohttp.ClientSession() as session, session.patch(
        f"{hub.url}/repos/{REPO}/pulls/{review.number}", json={"maintainer_can_modify": True},
        headers={"Authorization": f"token {hub.personal_token(AUTHOR)}"},
    ) as response:
        assert response.status == 200
    await review.box.settle()
    hub.comment(REPO, review.number, "/accept", user="daan")
    await review.box.settle()
    assert "*(inferred — §14 Q3)*" not in hub.file(fork, DOC, ref=BRANCH)
    assert review.records()["Q3"]["folded_in"] == hub.head_sha(fork, BRANCH)


# --- retire: remove ------------------------------------------------------------------------

CONFIG = ".github/threat-model-bot.yml"


async def _retire_by_removal(review: Review) -> None:
    review.hub.push(REPO, "main", {CONFIG: "retire: remove\n"}, user="daan", message="Retire answered questions by removal")
    await review.box.settle()


async def test_retire_remove_takes_folded_questions_out_of_section_14_and_keeps_their_records(review: Review) -> None:
    hub = review.hub
    await _retire_by_removal(review)
    roots = await _confirm(review, ("Q3", "Q6"))
    hub.comment(REPO, review.number, "/accept", user="vish")
    await review.box.settle()

    text = hub.file(REPO, DOC, ref=BRANCH)
    assert "**Q3.**" not in text and "**Q6.**" not in text and "**Q5.**" in text and "**Q8.**" in text
    head = _branch_commits(hub, REPO, BRANCH, 1)[0]
    assert "2 answered questions removed from §14" in head.message
    # The fold commit is a push like any other: the bot re-imported the document at it.
    state = review.state()
    assert state.head_sha == head.sha
    assert state.spans == {q.id: [q.span.start_line, q.span.end_line] for q in parse_document(text, DOC).questions}
    assert "Q3" not in state.spans and "Q6" not in state.spans
    records = review.records()
    for question in ("Q3", "Q6"):
        assert records[question]["status"] == "folded" and records[question]["folded_in"] == head.sha
        assert answers_by(records[question], "daan"), "the answer survived the re-import"
        assert hub.state.thread_of(roots[question]).resolved

    hub.comment(REPO, review.number, "/accept", user="vish")
    await review.box.settle()
    assert hub.count_requests("POST", "/repos/*/git/commits") == 1, "nothing left to fold"
    assert await review.box.failed_deliveries() == 0


ONLY_OPEN_QUESTIONS = """\
# Egret Threat Model

## §3 Scope

Only the daemon is in scope *(inferred — §14 Q1)*.
The admin socket listens on localhost only *(inferred — §14 Q2)*.

## §14 Open questions for the maintainers

**Q1.** Is only the daemon in scope?

**Q2.** Is the admin socket local only?
"""


@pytest.mark.parametrize("document_text", [ONLY_OPEN_QUESTIONS])
async def test_retire_remove_may_empty_section_14_and_the_pr_is_still_followed(review: Review) -> None:
    hub = review.hub
    await _retire_by_removal(review)
    hub.comment(REPO, review.number, "Q1: confirm\nQ2: confirm\n/accept", user="daan")
    await review.box.settle()

    text = hub.file(REPO, DOC, ref=BRANCH)
    assert text.endswith("*(maintainer: daan — §14 Q2)*.\n\n## §14 Open questions for the maintainers\n")
    state = review.state()
    assert state.head_sha == hub.head_sha(REPO, BRANCH) and state.spans == {}
    assert {q: r["status"] for q, r in review.records().items()} == {"Q1": "folded", "Q2": "folded"}

    hub.push(REPO, BRANCH, {DOC: text + "\n**Q3.** Is the cache trusted?\n"}, user=AUTHOR, message="One more question")
    await review.box.settle()
    assert {q: r["status"] for q, r in review.records().items()} == {"Q1": "folded", "Q2": "folded", "Q3": "open"}
    assert await review.box.failed_deliveries() == 0
