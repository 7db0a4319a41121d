"""Every trap issue #11 names, in replies of our own words.

The rule behind them: never a confirmation where the reply does not confirm, nothing binding
from free text or from a non-maintainer, and when the reader cannot tell, it says `unclear`."""
from __future__ import annotations

import pytest

from bot.core.reader import read_reply
from bot.core.reader_output import Reading, Stance

KNOWN = frozenset({*(f"Q{number}" for number in range(1, 40)), "Q5a", "Q14.1", "Q-clienttrust", "Q-token"})


def read(body: str, *, anchored: str | None = "Q9", maintainer: bool = True, author: str = "maint") -> Reading:
    return read_reply(
        body,
        author=author,
        association="MEMBER" if maintainer else "NONE",
        is_maintainer=maintainer,
        anchored_question=anchored,
        known_questions=KNOWN,
    )


def pairs(reading: Reading) -> set[tuple[str | None, Stance]]:
    return {(answer.question, answer.stance) for answer in reading.answers}


# ----------------------------------------------------------------- the cloudstack delegations


def test_confirm_then_a_question_to_a_colleague_confirms_and_awaits_them() -> None:
    body = (
        "This sound right. IMO, the only case where it matters is a host upgraded from a very old release. "
        "@DaanHoogland What do you think?"
    )
    reading = read(body, anchored="Q9")
    assert pairs(reading) == {("Q9", Stance.CONFIRM), ("Q9", Stance.DELEGATE)}
    assert reading.awaiting == ("DaanHoogland",)
    assert not reading.binding


def test_a_question_to_a_colleague_about_scope_awaits_them() -> None:
    reading = read("@DaanHoogland do you think we need to include simulator & tools/appliance?", anchored="Q11")
    assert pairs(reading) == {("Q11", Stance.DELEGATE)}
    assert reading.awaiting == ("DaanHoogland",)


# ----------------------------------------------------------------- delegation in every form


@pytest.mark.parametrize(
    ("body", "awaited"),
    [
        ("@erin what do you think?", ("erin",)),
        ("@erin, thoughts?", ("erin",)),
        ("@erin is the expert here.", ("erin",)),
        ("@erin did that part, she will know.", ("erin",)),
        ("Looping in @erin for the storage side.", ("erin",)),
        ("Not my area. cc @erin", ("erin",)),
        ("@erin @frank can one of you confirm the port?", ("erin", "frank")),
        ("I think @erin or @frank would know better than me.", ("erin", "frank")),
        ("Maybe @erin can check this.", ("erin",)),
    ],
)
def test_delegation_forms_await_the_people_named(body: str, awaited: tuple[str, ...]) -> None:
    reading = read(body)
    assert reading.awaiting == awaited
    assert Stance.DELEGATE in reading.stances
    assert Stance.CONFIRM not in reading.stances


@pytest.mark.parametrize(
    "body",
    [
        "Thanks @erin, that settles it.",
        "Thank you @erin and @frank for the quick review.",
        "As @erin said earlier, the port is closed by default.",
        "I applied @erin's wording to the second draft.",
        "> @erin can you check this?\n\nDone, the port is closed.",
    ],
)
def test_a_login_only_thanked_credited_or_quoted_is_not_awaited(body: str) -> None:
    assert read(body).awaiting == ()


def test_several_people_each_asked_on_their_question() -> None:
    reading = read("For Q3, @erin please confirm. For Q4, @frank please confirm.", anchored=None)
    assert reading.awaiting == ("erin", "frank")
    assert pairs(reading) == {("Q3", Stance.DELEGATE), ("Q4", Stance.DELEGATE)}


# ----------------------------------------------------------------- scope and negation


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hmm, I'm not convinced this is right. @erin what do you think?", {Stance.UNCLEAR, Stance.DELEGATE}),
        ("I wouldn't say that's wrong.", {Stance.CONFIRM}),
        ("Not incorrect, but incomplete: the agents run the scheduler too.", {Stance.CORRECT}),
        ("No objection from me.", {Stance.CONFIRM}),
        ("Looks good, except that the retry loop is not how it works.", {Stance.CORRECT}),
        ("Yes, however the admin port is also exposed.", {Stance.CORRECT}),
        ("If that only covers the admin port, then yes.", {Stance.UNCLEAR}),
        ("Yes as long as TLS is on.", {Stance.UNCLEAR}),
        ("Is that right?", {Stance.QUESTION}),
        ("Correct?", {Stance.QUESTION}),
    ],
)
def test_scope_and_negation_read_as_a_person_would(body: str, expected: set[Stance]) -> None:
    assert set(read(body).stances) == expected


@pytest.mark.parametrize(
    "body",
    [
        "Hmm, I'm not convinced this is right.",
        "If that only covers the admin port, then yes.",
        "Is this correct?",
        "Can you confirm the default?",
        "We need to double-check that these claims are correct.",
        "Looks good, except that the retry loop is not how it works.",
        "Maybe it's fine, maybe not, I'd like to look at the code first.",
    ],
)
def test_conditionals_questions_and_doubt_never_confirm(body: str) -> None:
    assert Stance.CONFIRM not in read(body).stances


def test_a_cross_reference_does_not_move_the_reply_off_its_thread() -> None:
    reading = read("As I said on Q4, this is not in scope for us.", anchored="Q7")
    assert {answer.question for answer in reading.answers} == {"Q7"}
    reading = read("Same as Q4: yes.", anchored="Q7")
    assert pairs(reading) == {("Q7", Stance.CONFIRM)}


# ----------------------------------------------------------------- unclear, never a guessed correction


@pytest.mark.parametrize("body", ["🤔", "hmm", "Hmm..."])
def test_a_thinking_face_or_hmm_alone_is_unclear(body: str) -> None:
    assert read(body).stances == (Stance.UNCLEAR,)


@pytest.mark.parametrize("body", ["👍", "+1", "ack", "ACK.", "Ok."])
def test_short_agreement_confirms_as_a_proposal(body: str) -> None:
    reading = read(body)
    assert reading.stances == (Stance.CONFIRM,) and not reading.binding


def test_a_thumbs_down_is_a_correction_that_asks_for_words() -> None:
    reading = read("👎")
    assert reading.stances == (Stance.CORRECT,)
    assert any("/correct" in problem for problem in reading.problems)


def test_pr_level_chatter_is_not_a_correction() -> None:
    for body in ("Rebased on main, CI should be green now.", "I'll be out next week; back on Monday."):
        assert Stance.CORRECT not in read(body, anchored=None).stances


def test_facts_given_to_an_open_question_are_an_answer_not_a_correction() -> None:
    reading = read("The default is on for new installs. Only very old upgrades keep it off.", anchored="Q12")
    assert pairs(reading) == {("Q12", Stance.ANSWER)}


# ----------------------------------------------------------------- bulk lines stay strict


@pytest.mark.parametrize(
    "line",
    [
        "Q9: correct - the scheduler also runs on the agents",
        "Q9: yes, but only for the admin port",
        "Q9 - ok if TLS is on",
        "Q9: confirmed, except for the agent port",
        "- [x] Q9 only when clustered",
    ],
)
def test_an_ambiguous_bulk_line_is_never_a_binding_confirmation(line: str) -> None:
    reading = read(line, anchored=None)
    assert ("Q9", Stance.CONFIRM) not in pairs(reading)
    assert ("Q9", Stance.UNCLEAR) in pairs(reading)
    assert any("/confirm Q9" in problem and "/correct Q9" in problem for problem in reading.problems)


@pytest.mark.parametrize(
    ("line", "stance"),
    [
        ("Q9: confirm", Stance.CONFIRM),
        ("Q9: correct", Stance.CONFIRM),
        ("Q9: correct: the scheduler runs on the agents", Stance.CORRECT),
        ("Q9 - strike", Stance.STRIKE),
        ("Q9 ✅", Stance.CONFIRM),
        ("- [x] Q9", Stance.CONFIRM),
        ("✅ Q9", Stance.CONFIRM),
        ("Q9 ❌ the agents run it too", Stance.CORRECT),
        ("Q9: 👍", Stance.CONFIRM),
    ],
)
def test_plain_bulk_lines_and_ticks_bind(line: str, stance: Stance) -> None:
    reading = read(line, anchored=None)
    assert pairs(reading) == {("Q9", stance)}
    assert reading.binding


def test_an_unticked_checklist_item_answers_nothing() -> None:
    reading = read("- [ ] Q9\n- [x] Q10", anchored=None)
    assert pairs(reading) == {("Q10", Stance.CONFIRM)}


def test_a_non_maintainers_bulk_lines_never_bind() -> None:
    reading = read("Q9: confirm\nQ10: confirm", anchored=None, maintainer=False)
    assert not reading.binding


# ----------------------------------------------------------------- every way of naming a question


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Q-clienttrust: confirm", {("Q-clienttrust", Stance.CONFIRM)}),
        ("Q14.1: confirm", {("Q14.1", Stance.CONFIRM)}),
        ("Q5a: confirm", {("Q5a", Stance.CONFIRM)}),
        ("On question 5: yes, that holds.", {("Q5", Stance.CONFIRM)}),
        ("Q3 and Q4 both hold.", {("Q3", Stance.CONFIRM), ("Q4", Stance.CONFIRM)}),
        ("Questions 3 and 4: agreed.", {("Q3", Stance.CONFIRM), ("Q4", Stance.CONFIRM)}),
    ],
)
def test_every_id_form(body: str, expected: set[tuple[str, Stance]]) -> None:
    assert pairs(read(body, anchored=None)) == expected


def test_a_question_quoted_above_the_answer_is_the_one_answered() -> None:
    body = "> **Q6.** Is root on the management host out of model?\n\nYes, that is out of model.\n"
    assert pairs(read(body, anchored=None)) == {("Q6", Stance.CONFIRM)}


def test_several_quoted_questions_each_get_their_answer() -> None:
    body = "> **Q6.** Is root out of model?\n\nYes.\n\n> **Q7.** Is the agent port open by default?\n\nNo, it is closed.\n"
    assert pairs(read(body, anchored=None)) == {("Q6", Stance.CONFIRM), ("Q7", Stance.CORRECT)}


def test_numbered_questions_with_answer_lines() -> None:
    body = (
        "Answers below.\n\n"
        "1. **Default:** what happens when no rule matches?\n"
        "Answer: the request is denied, except on one storage service.\n\n"
        "2. **Transport:** is TLS required?\n"
        "Answer: recommended, but plaintext is the shipped default.\n"
    )
    assert pairs(read(body, anchored=None)) == {("Q1", Stance.ANSWER), ("Q2", Stance.ANSWER)}


# ----------------------------------------------------------------- more of how maintainers write


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Partially. It's true for the broker, not for the web console.", {Stance.CORRECT}),
        ("Yes and no. The port is open, but only on localhost.", {Stance.CORRECT}),
        ("Not quite. The loader also accepts jars from the plugin dir.", {Stance.CORRECT}),
        ("This was true until 5.18; since then the default is off.", {Stance.CORRECT}),
        ("The statement is fine, but the severity is overstated.", {Stance.CORRECT}),
        ("correct me if I'm wrong but I think this only applies to HDFS", {Stance.CORRECT}),
        ("We removed that feature in 6.0, so this can go.", {Stance.STRIKE}),
        ("Agree with the proposed statement.", {Stance.CONFIRM}),
        ("Sure.", {Stance.CONFIRM}),
        ("Yep, that's by design.", {Stance.CONFIRM}),
        ("No idea, sorry.", {Stance.TENTATIVE}),
        ("I believe so, but @alice should confirm.", {Stance.TENTATIVE, Stance.DELEGATE}),
        ("I'd say yes, though I'd like @erin to double check.", {Stance.CONFIRM, Stance.DELEGATE}),
        ("Good question. I don't know; @dave wrote that module.", {Stance.TENTATIVE, Stance.DELEGATE}),
        ("Sounds good to me, assuming the proxy strips the header.", {Stance.UNCLEAR}),
        ("see my comment on Q3", set()),
        ("No rush on this one.", set()),
    ],
)
def test_realistic_replies(body: str, expected: set[Stance]) -> None:
    assert set(read(body).stances) == expected


def test_numbered_verdict_items_outside_a_thread_answer_the_numbered_questions() -> None:
    reading = read("1. yes\n2. no, the agent uses mTLS\n3. strike", anchored=None)
    assert pairs(reading) == {("Q1", Stance.CONFIRM), ("Q2", Stance.CORRECT), ("Q3", Stance.STRIKE)}
    assert not reading.binding  # a numbered list is free text: it proposes


def test_a_bare_command_under_a_quoted_question_applies_to_it() -> None:
    reading = read("> **Q6.** Is root on the management host out of model?\n\n/confirm\n", anchored=None)
    assert pairs(reading) == {("Q6", Stance.CONFIRM)} and reading.binding


@pytest.mark.parametrize("body", ["§14.5: yes, that holds.", "Re §14 item 5: agreed.", "§14 #5 - yes"])
def test_a_question_named_by_its_section_number(body: str) -> None:
    assert pairs(read(body, anchored=None)) == {("Q5", Stance.CONFIRM)}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("I don't think that's right.", {Stance.CORRECT}),
        ("Yes, with one nit: the port is 8443, not 8080.", {Stance.CORRECT}),
        ("This doesn't hold anymore since we moved to Jetty 12.", {Stance.CORRECT}),
        ("It's more nuanced: the token is per-session, not per-template.", {Stance.CORRECT}),
        ("No objections, but please add the CLI to the list.", {Stance.CORRECT}),
        ("I would not say it's incorrect, just incomplete.", {Stance.CORRECT}),
        ("Can confirm.", {Stance.CONFIRM}),
        ("Fine by me.", {Stance.CONFIRM}),
        ("We should probably discuss this on dev@ first.", {Stance.TENTATIVE}),
        ("@lee @kim", {Stance.DELEGATE}),
        ("+1, @lee FYI", {Stance.CONFIRM, Stance.DELEGATE}),
    ],
)
def test_more_negations_nits_and_pings(body: str, expected: set[Stance]) -> None:
    assert set(read(body).stances) == expected


def test_headings_name_the_question_for_what_follows() -> None:
    body = "### Q3\nYes.\n\n### Q4\nNo - the agent authenticates with a client cert.\n"
    assert pairs(read(body, anchored=None)) == {("Q3", Stance.CONFIRM), ("Q4", Stance.CORRECT)}


def test_a_thinking_face_in_a_bulk_line_is_unclear_and_binds_nothing() -> None:
    reading = read("Q1 ✅\nQ4 🤔", anchored=None)
    assert pairs(reading) == {("Q1", Stance.CONFIRM), ("Q4", Stance.UNCLEAR)}


def test_numbered_reply_words_name_their_question() -> None:
    body = "**A4.** The gateway rejects it before auth.\n\n**A5.** Yes, that holds.\n"
    assert pairs(read(body, anchored=None)) == {("Q4", Stance.ANSWER), ("Q5", Stance.CONFIRM)}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Yes, in theory. In practice nobody runs it that way.", {Stance.TENTATIVE}),
        ("Correct for 4.x; 5.0 changes this.", {Stance.CORRECT}),
        ("Exactly the opposite: the agent connects to the server.", {Stance.CORRECT}),
        ("I agree with the first half only.", {Stance.CORRECT}),
        ("Looks right to me at first glance, will double check tomorrow.", {Stance.TENTATIVE}),
        ("Agree, modulo the CLI.", {Stance.CORRECT}),
        ("Not necessarily.", {Stance.CORRECT}),
        ("Should be fine.", {Stance.TENTATIVE}),
        ("Would be good to confirm with the storage team.", {Stance.TENTATIVE}),
        ("I'm not the right person to answer this.", {Stance.TENTATIVE}),
    ],
)
def test_hedged_or_limited_agreement_is_never_a_confirmation(body: str, expected: set[Stance]) -> None:
    assert set(read(body).stances) == expected
