"""Asking GitHub what the maintainer rule (bot/core/maintainer_rule.py) needs to know, with a cache.

What GitHub says about a person is kept for a few minutes per installation, so a comment that
names many people, or the same people on many PRs, costs few API calls (see also
`LOGINS_PER_COMMENT`, the cap on people one comment makes the bot look up).
"""
from __future__ import annotations

import time

from bot.core.maintainer_rule import (
    UNKNOWN_ASSOCIATION,
    GithubAnswers,
    Person,
    Question,
    decide,
)
from bot.core.settings import MaintainerSettings
from bot.github import pulls as github
from bot.service.runtime.handler_context import Context

UNKNOWN = UNKNOWN_ASSOCIATION  # no author_association at hand (reactions, people @-mentioned)
CACHE_SECONDS = 600.0  # a new member counts within ten minutes
_CACHE_SIZE = 10_000
# (service, installation, repository, login, association given, rules) -> (expires at, maintainer?)
_answers: dict[tuple[str, int | None, str, str, str, MaintainerSettings], tuple[float, bool]] = {}


async def is_maintainer(ctx: Context, rules: MaintainerSettings, login: str, association: str) -> bool:
    """core.maintainer_rule decides; this asks GitHub what it needs, one question at a time."""
    person = Person(login=login, association=association)
    owner = ctx.repo.split("/")[0] if ctx.repo else ""
    verdict = decide(rules, person, owner)
    if isinstance(verdict, bool):
        return verdict  # settled by what is at hand: no cache, no call
    if ctx.gh is None or ctx.repo is None:
        return False
    service = f"{ctx.settings.api_url} {ctx.state_dir}"  # two services in one process never share answers
    key = (service, ctx.installation_id, ctx.repo.lower(), login.lower(), association.upper(), rules)
    now = time.monotonic()
    cached = _answers.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    answer = await _ask_github(ctx, rules, person, owner, verdict)
    if len(_answers) >= _CACHE_SIZE:
        _answers.clear()  # simple and bounded: the next lookups refill it
    _answers[key] = (now + CACHE_SECONDS, answer)
    return answer


async def _ask_github(ctx: Context, rules: MaintainerSettings, person: Person, owner: str, question: Question) -> bool:
    assert ctx.gh is not None and ctx.repo is not None
    answers = GithubAnswers()
    verdict: bool | Question = question
    while isinstance(verdict, Question):
        if verdict is Question.ORG_MEMBERSHIP:
            answers = answers.with_answer(verdict, await github.is_org_member(ctx.gh, owner, person.login))
        else:
            answers = answers.with_answer(verdict, await github.permission_of(ctx.gh, ctx.repo, person.login))
        verdict = decide(rules, person, owner, answers)
    return verdict
