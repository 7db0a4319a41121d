"""Who counts as a maintainer of a repository: the one rule, for the service and the CLI (pure).

The settings (`maintainers:`) accept a person by any one of three criteria: a listed login, an
author association GitHub reports, or at least a repository permission. Some of that needs
GitHub's answer (is this person an organization member? what permission do they hold?), which
the caller fetches: `decide` returns either the verdict or the one `Question` to ask next, and
the caller calls it again with the answer. Asking one question at a time keeps the cost to the
calls the verdict really needs, whether the caller is asynchronous (the service) or not (`sync`).

Decided on purpose, for both callers:
- A listed login always counts, bot or not: listing it is the repository's explicit choice.
- Otherwise a bot account never counts. A GitHub App can hold write permission (this bot
  does), and an automated comment must never settle a maintainer's question.
- An association missing from what GitHub sent (a reaction, an @-mention) is worked out the way
  GitHub would report it — OWNER for the repository's owner, MEMBER for an organization member,
  COLLABORATOR for write access or more — so a 👍 counts the same as a comment by that person.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from bot.core.permissions import permission_at_least
from bot.core.settings import MaintainerSettings

UNKNOWN_ASSOCIATION = ""  # no author_association at hand (reactions, people @-mentioned)
# GitHub reports COLLABORATOR for an outside collaborator with at least this permission.
COLLABORATOR_PERMISSION = "write"


class Question(Enum):
    """What the caller must ask GitHub before the rule can decide."""

    ORG_MEMBERSHIP = "org-membership"  # is the person a member of the repository owner's organization?
    PERMISSION = "permission"  # the person's permission on the repository


@dataclass(frozen=True)
class Person:
    login: str
    association: str = UNKNOWN_ASSOCIATION
    is_bot: bool = False


@dataclass(frozen=True)
class GithubAnswers:
    """What GitHub said so far; None: not asked yet."""

    org_member: bool | None = None
    permission: str | None = None

    def with_answer(self, question: Question, answer: bool | str) -> GithubAnswers:
        if question is Question.ORG_MEMBERSHIP:
            return replace(self, org_member=bool(answer))
        return replace(self, permission=str(answer))


def is_bot_login(login: str) -> bool:
    """GitHub Apps act as `name[bot]`; the REST `type: Bot` is the caller's to pass when it has it."""
    return login.lower().endswith("[bot]")


def decide(
    rules: MaintainerSettings, person: Person, repo_owner: str, answers: GithubAnswers = GithubAnswers()
) -> bool | Question:
    """True or False when settled; otherwise the next question to ask GitHub (then call again)."""
    if person.login.lower().lstrip("@") in {login.lower() for login in rules.logins}:
        return True
    association = _association_at_hand(person, repo_owner)
    if association and association in rules.associations:
        return True
    if person.is_bot or is_bot_login(person.login):
        return False
    if not association:
        worked_out = _work_out_association(rules, answers)
        if isinstance(worked_out, Question) or worked_out:
            return worked_out
    if rules.permission is None:
        return False
    if answers.permission is None:
        return Question.PERMISSION
    return permission_at_least(answers.permission, rules.permission)


def _association_at_hand(person: Person, repo_owner: str) -> str:
    if person.association != UNKNOWN_ASSOCIATION:
        return person.association.upper()
    return "OWNER" if person.login.lower() == repo_owner.lower() else UNKNOWN_ASSOCIATION


def _work_out_association(rules: MaintainerSettings, answers: GithubAnswers) -> bool | Question:
    """Whether an association the rules accept can be shown for someone GitHub gave none for;
    asking only about the associations the rules accept (OWNER is settled by the login)."""
    if "MEMBER" in rules.associations:
        if answers.org_member is None:
            return Question.ORG_MEMBERSHIP
        if answers.org_member:
            return True
    if "COLLABORATOR" in rules.associations:
        if answers.permission is None:
            return Question.PERMISSION
        if permission_at_least(answers.permission, COLLABORATOR_PERMISSION):
            return True
    return False
