"""The maintainer rule: one verdict for the service and `sync`, asking GitHub only what it must."""
from __future__ import annotations

import pytest

from bot.core.maintainer_rule import GithubAnswers, Person, Question, decide
from bot.core.settings import MaintainerSettings

DEFAULT = MaintainerSettings()  # OWNER, MEMBER, COLLABORATOR; no permission
OWNER = "apache"


def settle(rules: MaintainerSettings, person: Person, github: dict[Question, bool | str]) -> tuple[bool, list[Question]]:
    """Play the caller's part: answer each question from `github`, and note what was asked."""
    asked: list[Question] = []
    answers = GithubAnswers()
    verdict = decide(rules, person, OWNER, answers)
    while isinstance(verdict, Question):
        asked.append(verdict)
        answers = answers.with_answer(verdict, github[verdict])
        verdict = decide(rules, person, OWNER, answers)
    return verdict, asked


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR", "member"])
def test_an_accepted_association_settles_it_without_asking(association: str) -> None:
    assert decide(DEFAULT, Person("ann", association), OWNER) is True


def test_a_known_association_outside_the_rules_is_no_without_a_permission_setting() -> None:
    assert decide(DEFAULT, Person("bob", "CONTRIBUTOR"), OWNER) is False


def test_a_listed_login_counts_whatever_its_case_or_kind() -> None:
    rules = MaintainerSettings(associations=(), logins=("Carol", "release-helper[bot]"))
    assert decide(rules, Person("carol", "NONE"), OWNER) is True
    assert decide(rules, Person("release-helper[bot]", "NONE", is_bot=True), OWNER) is True


def test_a_bot_never_counts_by_association_work_or_permission() -> None:
    rules = MaintainerSettings(permission="write")
    assert decide(rules, Person("dependabot[bot]", "NONE", is_bot=True), OWNER) is False
    # an @-mentioned App: no association at hand, recognised by its login alone
    assert decide(rules, Person("threat-model-bot[bot]"), OWNER) is False


def test_the_permission_setting_asks_once_and_compares_in_githubs_order() -> None:
    rules = MaintainerSettings(associations=("OWNER",), permission="maintain")
    assert settle(rules, Person("dan", "CONTRIBUTOR"), {Question.PERMISSION: "admin"}) == (True, [Question.PERMISSION])
    assert settle(rules, Person("dan", "CONTRIBUTOR"), {Question.PERMISSION: "write"}) == (False, [Question.PERMISSION])
    assert settle(rules, Person("dan", "CONTRIBUTOR"), {Question.PERMISSION: "custom-auditor"}) == (False, [Question.PERMISSION])


def test_a_missing_association_is_worked_out_as_github_would_report_it() -> None:
    # the repository's owner, from the login alone
    assert decide(DEFAULT, Person("Apache"), OWNER) is True
    # an organization member: one question
    assert settle(DEFAULT, Person("erin"), {Question.ORG_MEMBERSHIP: True}) == (True, [Question.ORG_MEMBERSHIP])
    # an outside collaborator with write access: membership first, then the permission
    both = {Question.ORG_MEMBERSHIP: False, Question.PERMISSION: "write"}
    assert settle(DEFAULT, Person("fay"), both) == (True, [Question.ORG_MEMBERSHIP, Question.PERMISSION])
    # read access is not a collaborator as GitHub counts one
    reader = {Question.ORG_MEMBERSHIP: False, Question.PERMISSION: "read"}
    assert settle(DEFAULT, Person("gus"), reader) == (False, [Question.ORG_MEMBERSHIP, Question.PERMISSION])


def test_only_the_associations_the_rules_accept_are_asked_about() -> None:
    members_only = MaintainerSettings(associations=("MEMBER",))
    assert settle(members_only, Person("hal"), {Question.ORG_MEMBERSHIP: False}) == (False, [Question.ORG_MEMBERSHIP])
    nobody_by_association = MaintainerSettings(associations=(), permission="triage")
    assert settle(nobody_by_association, Person("ivy"), {Question.PERMISSION: "triage"}) == (True, [Question.PERMISSION])


def test_the_permission_asked_for_the_association_is_not_asked_again() -> None:
    rules = MaintainerSettings(associations=("COLLABORATOR",), permission="admin")
    assert settle(rules, Person("jo"), {Question.PERMISSION: "admin"}) == (True, [Question.PERMISSION])
    assert settle(rules, Person("jo"), {Question.PERMISSION: "read"}) == (False, [Question.PERMISSION])
