"""Follow-up issues: opened once per follow-up, linked both ways, state kept in step.

Look first, then write: each issue carries a hidden marker naming the PR, the question and
the follow-up, so a retry or a lost record finds the issue it already opened. The title in the
marker is made marker-safe (no `-->` can close it early). Each follow-up stands on its own: a
title over GitHub's limit, or one GitHub refuses, is said once on the PR and never undoes or
blocks the rest of the reply.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, MutableMapping, Sequence

from gidgethub import BadRequest, GitHubException, RateLimitExceeded

from bot.core.answers import find_followup, normalise_title, set_followup_issue
from bot.core.limits import followup_title_problem
from bot.core.markdown import inline_text, marker_text
from bot.core.settings import RepoSettings
from bot.github import pulls as github
from bot.service.features.one_off_remarks import post_once
from bot.service.features.tracked_pulls import TrackedPull
from bot.service.runtime.handler_context import Context

_MARKER = re.compile(r"<!-- threat-model-bot:followup (?P<repo>[^#\s]+)#(?P<number>\d+) (?P<question>\S+) (?P<title>.*?) -->")


def followup_marker(repo: str, number: int, question_id: str, title: str) -> str:
    return f"<!-- threat-model-bot:followup {repo}#{number} {marker_text(question_id, 40)} {marker_title(title)} -->"


def marker_title(title: str) -> str:
    """The follow-up's title as its marker carries it: normalised, bounded, marker-safe."""
    return marker_text(normalise_title(title), 200)


def _followup_for_marker(mapping: Mapping, title_in_marker: str) -> MutableMapping | None:
    """The recorded follow-up a marker names (markers written before titles were made safe
    carry the plain normalised title, which find_followup matches)."""
    for item in mapping.get("followups") or ():
        if isinstance(item, MutableMapping) and marker_title(str(item.get("title", ""))) == title_in_marker:
            return item
    return find_followup(mapping, title_in_marker)


def parse_followup_marker(body: str) -> tuple[str, int, str, str] | None:
    match = _MARKER.search(body or "")
    if match is None:
        return None
    return match["repo"], int(match["number"]), match["question"], match["title"]


async def open_followups(ctx: Context, pull: TrackedPull, settings: RepoSettings, wanted: Sequence[tuple[str, str]]) -> list[str]:
    """Open an issue for each (question, title) not opened yet; returns the issue URLs opened or found."""
    assert ctx.gh is not None and ctx.repo is not None
    opened: list[str] = []
    for question_id, title in dict.fromkeys(wanted):
        mapping = pull.records.get(question_id)
        if mapping is None:
            continue
        existing = find_followup(mapping, title)
        if existing is not None and existing.get("number"):
            continue  # never two issues for one follow-up
        if settings.dry_run:
            ctx.log.info("dry run: would open follow-up issue %r for %s", title, question_id)
            continue
        problem = followup_title_problem(title)
        if problem is not None:
            await _say_not_opened(ctx, pull, question_id, title, problem)
            continue
        marker = followup_marker(ctx.repo, pull.state.number, question_id, title)
        try:
            issue = await github.find_issue_with_marker(ctx.gh, ctx.repo, marker, settings.followup_labels)
            if issue is None:
                issue = await github.create_issue(
                    ctx.gh, ctx.repo, title=" ".join(title.split()), body=_issue_body(ctx.repo, pull, question_id, title, marker),
                    labels=settings.followup_labels,
                )
        except RateLimitExceeded:
            raise  # the whole delivery waits and retries; the look-first marker keeps it to one issue
        except BadRequest as error:  # refused (422 and the like): retrying the same request cannot help
            await _say_not_opened(ctx, pull, question_id, title, f"GitHub refused it ({error.status_code})")
            continue
        except GitHubException as error:  # 5xx: the rest of the reply stands; reconcile retries it
            ctx.log.warning("PR #%s: follow-up %r for %s not opened: %s", pull.state.number, title[:80], question_id, error)
            continue
        state = "closed" if issue.get("state") == "closed" else "open"
        set_followup_issue(mapping, title, int(issue["number"]), str(issue.get("html_url") or issue["url"]), state)
        pull.store.save(mapping)
        opened.append(str(issue.get("html_url") or issue["url"]))
    return opened


def update_from_issue(pull: TrackedPull, question_id: str, title_in_marker: str, issue: dict) -> bool:
    """An issue the bot opened was closed or reopened: the record follows."""
    mapping = pull.records.get(question_id)
    if mapping is None:
        return False
    target = _followup_for_marker(mapping, title_in_marker)
    if target is None or target.get("number") not in (None, issue["number"]):
        return False  # not a follow-up we recorded, or recorded against another issue
    title = str(target["title"])
    state = "closed" if issue.get("state") == "closed" else "open"
    changed = set_followup_issue(mapping, title, int(issue["number"]), str(issue.get("html_url") or issue["url"]), state)
    if changed:
        pull.store.save(mapping)
    return changed


async def _say_not_opened(ctx: Context, pull: TrackedPull, question_id: str, title: str, why: str) -> None:
    """One short remark on the PR per follow-up that cannot be opened; the reply's other effects stand."""
    assert ctx.repo is not None
    ctx.log.warning("PR #%s: follow-up for %s not opened: %s", pull.state.number, question_id, why)
    digest = hashlib.sha256(f"{question_id} {normalise_title(title)}".encode()).hexdigest()[:16]
    text = (
        f"The follow-up for **{marker_text(question_id, 40)}** (“{inline_text(title, 80)}”) was not opened: {why}. "
        "The rest of the reply was applied; a maintainer can repeat `/followup` with a shorter title."
    )
    await post_once(ctx, pull.state.number, f"followup-refused:{ctx.repo}#{pull.state.number}:{digest}", text)


def _issue_body(repo: str, pull: TrackedPull, question_id: str, title: str, marker: str) -> str:
    thread = next((root for root, question in pull.state.threads.items() if question == question_id), None)
    pr_link = pull.state.url or f"#{pull.state.number}"
    thread_link = f"{pr_link}#discussion_r{thread}" if thread else pr_link
    mapping = pull.records[question_id]
    question = inline_text(str(mapping.get("question", "")), 600)  # document text must not ping anyone
    return (
        f"{marker}\n"
        f"A follow-up from the threat-model review in #{pull.state.number}, question **{question_id}** "
        f"([thread]({thread_link})).\n\n> {question}\n\n"
        f"Closing this issue marks the follow-up done on the question's record."
    )
