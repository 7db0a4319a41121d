"""Fold accepted answers into the document: one commit on the PR's head branch, whatever k is.

Plan on the current head, commit through the Git Data API as a fast-forward; if the branch
moved meanwhile, re-plan on the new head and try again. A fork the App may not push to gets a
PR against its branch instead. Then the folded questions' review threads are resolved.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from gidgethub import BadRequest

from bot.core.answers import mark_folded
from bot.core.limits import DIFF_MAX_CHARS
from bot.core.planner import Plan, PlanOptions, ResolveStyle, is_ready_to_fold, plan_promotions
from bot.core.settings import RepoSettings
from bot.github import pulls as github
from bot.service.features.one_off_remarks import post_once
from bot.service.features.tracked_pulls import TrackedPull
from bot.service.runtime.handler_context import Context

MAX_ATTEMPTS = 3
# settings.retire -> how the plan retires a folded question from §14 (every RETIRE_STYLES value).
RETIRE_TO_RESOLVE_STYLE = {"strike": ResolveStyle.STRIKE, "mark": ResolveStyle.MARK, "remove": ResolveStyle.REMOVE}
FORK_BRANCH = "threat-model-bot/fold-pr-{number}"


@dataclass
class FoldResult:
    commit_sha: str | None
    folded: tuple[str, ...]
    plan: Plan | None
    via_pull_request: str | None = None  # URL, when the head branch could not be pushed to


def plan_options(settings: RepoSettings, pull: TrackedPull, only: frozenset[str]) -> PlanOptions:
    with_date = {"dated": True, "undated": False}.get(settings.tag_style)
    resolve = RETIRE_TO_RESOLVE_STYLE.get(settings.retire)
    return PlanOptions(only=only, with_date=with_date, resolve_style=resolve, path=pull.state.document_path)


async def fold(ctx: Context, pull: TrackedPull, pr: dict[str, Any], settings: RepoSettings) -> FoldResult:
    assert ctx.gh is not None and ctx.repo is not None
    records = pull.typed_records()
    ready = frozenset(record.id for record in records if is_ready_to_fold(record))
    if not ready:
        return FoldResult(None, (), None)
    head_repo = (pr["head"].get("repo") or {}).get("full_name") or ctx.repo
    branch = pr["head"]["ref"]
    path = pull.state.document_path
    assert path is not None
    options = plan_options(settings, pull, ready)
    for _attempt in range(MAX_ATTEMPTS):
        head_sha = await github.branch_head(ctx.gh, head_repo, branch)
        document = await github.read_file(ctx.gh, head_repo, path, head_sha)
        if document is None:
            raise RuntimeError(f"{path} is gone from {head_repo}@{head_sha[:7]}")
        plan = plan_promotions(document.text, records, options)
        if not plan.changed:
            return _settle(ctx, pull, plan, None)  # the document already shows them: just record it
        if settings.dry_run:
            ctx.log.info("dry run: would commit %d promotions to %s:%s\n%s", len(plan.promotions), head_repo, branch, plan.diff)
            return FoldResult(None, (), plan)
        message = commit_message(plan, pull.state.number)
        try:
            sha = await github.commit_file(ctx.gh, head_repo, branch, path, plan.new_text, message, parent_sha=head_sha)
        except github.NotFastForward:
            ctx.log.info("PR #%s: %s moved while folding; re-planning on the new head", pull.state.number, branch)
            continue
        except github.CannotPush:
            url = await _fold_through_pull_request(ctx, pull, pr, plan, head_sha, message)
            # Not folded: the PR's document is unchanged until the author takes the branch in, and
            # the answers must stay ready so an /accept after edits are allowed folds them.
            return FoldResult(None, (), plan, via_pull_request=url)
        return _settle(ctx, pull, plan, sha)
    raise RuntimeError(f"{branch} kept moving; gave up after {MAX_ATTEMPTS} attempts (the delivery will be retried)")


def commit_message(plan: Plan, number: int) -> str:
    questions = ", ".join(plan.folded) or "none"
    if plan.removed:
        retired = f"{len(plan.removed)} answered questions removed from §14"
    else:
        retired = f"{len(plan.resolved)} questions marked resolved"
    return (
        f"Fold maintainer answers into the threat model ({questions})\n\n"
        f"{len(plan.promotions)} inferred tags promoted to maintainer and {retired}, "
        f"as accepted in the review of PR #{number}."
    )


def _settle(ctx: Context, pull: TrackedPull, plan: Plan, sha: str | None) -> FoldResult:
    at = ctx.clock().isoformat()
    for question_id in plan.folded:
        mapping = pull.records.get(question_id)
        if mapping is not None and mark_folded(mapping, at) and sha:
            mapping["folded_in"] = sha
    pull.save(ctx, [qid for qid in plan.folded if qid in pull.records])
    return FoldResult(sha, tuple(plan.folded), plan)


async def _fold_through_pull_request(ctx: Context, pull: TrackedPull, pr: dict[str, Any], plan: Plan, head_sha: str, message: str) -> str:
    """The head is a fork we may not push to: commit on a branch here and propose it there.

    The fold branch lives in the base repository (forks share its objects). A PR against the
    fork's branch needs access to the fork; where the App has none, the PR conversation gets
    the branch and the diff instead, so the author can pull it in.
    """
    assert ctx.gh is not None and ctx.repo is not None
    branch = FORK_BRANCH.format(number=pull.state.number)
    await github.create_branch(ctx.gh, ctx.repo, branch, head_sha)
    current = await github.branch_head(ctx.gh, ctx.repo, branch)
    if current == head_sha:
        await github.commit_file(ctx.gh, ctx.repo, branch, pull.state.document_path or "", plan.new_text, message, parent_sha=current)
    head_repo = pr["head"]["repo"]["full_name"]
    owner = ctx.repo.split("/")[0]
    title = f"Fold maintainer answers from {ctx.repo}#{pull.state.number}"
    body = f"Maintainer edits are off on this branch, so the fold is proposed as a PR.\n\n{_shown_diff(plan.diff)}"
    try:
        created = await github.open_pull(ctx.gh, head_repo, head=f"{owner}:{branch}", base=pr["head"]["ref"], title=title, body=body)
        return str(created.get("html_url") or created.get("url"))
    except BadRequest as error:
        if error.status_code not in (403, 404):
            raise
    await post_once(
        ctx,
        pull.state.number,
        f"fold-branch:{ctx.repo}#{pull.state.number}:{plan_digest(plan)}",
        f"The App cannot push to `{head_repo}:{pr['head']['ref']}` (maintainer edits are off) "
        f"nor open a PR there, so the fold is on `{ctx.repo}:{branch}`. Pull it into your branch, or allow "
        f"edits by maintainers and reply `/accept` again.\n\n{_shown_diff(plan.diff)}",
    )
    return f"{ctx.repo}:{branch}"


def _shown_diff(diff: str) -> str:
    """The diff as a fenced block, or a line saying where it is when it would outgrow a comment."""
    if len(diff) > DIFF_MAX_CHARS:
        return f"The diff ({len(diff.splitlines()):,} lines) is too long to show here; it is on the branch.\n"
    return f"`````diff\n{diff}`````\n"


def plan_digest(plan: Plan) -> str:
    return hashlib.sha256(plan.new_text.encode("utf-8")).hexdigest()[:16]


async def resolve_folded_threads(ctx: Context, pull: TrackedPull, folded: tuple[str, ...]) -> int:
    """Resolve the review threads of the folded questions (one GraphQL query, one mutation each)."""
    assert ctx.gh is not None and ctx.repo is not None
    roots = [int(root) for root, question in pull.state.threads.items() if question in folded]
    if not roots:
        return 0
    threads = await github.review_thread_ids(ctx.gh, ctx.repo, pull.state.number)
    resolved = 0
    for root in roots:
        node = threads.get(root)
        if node is not None and not node[1]:
            await github.resolve_thread(ctx.gh, node[0])
            resolved += 1
    return resolved
