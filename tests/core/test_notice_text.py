from bot.core.notice_text import notice_marker, parse_notice_marker, render_help, render_notice
from bot.core.planner import Promotion
from bot.core.records import Answer, Proposal, ProposalState, Record, Status


def record(**changes) -> Record:
    base = dict(
        id="Q9",
        document="draft-THREAT-MODEL.md",
        wave="Wave 3",
        title="Guest workloads in scope",
        question="Are guest side channels out of scope?",
        proposed_answer="yes",
        maps_to=("§7",),
        document_state="open",
        lines=(10, 14),
        status=Status.ANSWERED,
    )
    base.update(changes)
    return Record(**base)


def test_the_marker_names_the_question_and_round_trips() -> None:
    body = render_notice(record())
    assert body.startswith(notice_marker("Q9"))
    assert parse_notice_marker(body) == "Q9"
    assert parse_notice_marker("an ordinary comment") is None


def test_only_awaited_maintainers_are_mentioned_and_copied_text_never_pings() -> None:
    answers = (
        Answer(author="alice", association="MEMBER", stance="confirm", excerpt="yes, and @carol agrees", binding=True),
        Answer(author="dave", association="NONE", stance="confirm", excerpt="looks fine", binding=False),
    )
    body = render_notice(record(answers=answers, awaiting=("bob", "eve")), maintainers={"alice", "bob"})
    assert "@bob" in body
    assert "@alice" not in body and "@eve" not in body and "@carol" not in body
    assert "`eve`" in body and "`dave`" in body
    assert "input, not binding" in body


def test_the_proposed_diff_and_the_way_to_accept_are_shown() -> None:
    proposals = (Proposal(id="Q9-promote-c7", kind="promote", state=ProposalState.PROPOSED, summary="promote"),)
    promotions = (Promotion(question="Q9", line=40, old_tag="*(inferred — §14 Q9)*", new_tag="*(maintainer: alice — §14 Q9)*"),)
    body = render_notice(record(proposals=proposals), promotions=promotions)
    assert "-*(inferred — §14 Q9)*\n+*(maintainer: alice — §14 Q9)*" in body
    assert "/accept" in body and "Q9-promote-c7" in body


def test_help_lists_the_commands() -> None:
    assert "/followup" in render_help("Q9") and parse_notice_marker(render_help("Q9")) == "Q9"


def test_an_unclear_reply_asks_for_confirm_or_correct_and_guesses_nothing() -> None:
    answers = (Answer(author="alice", association="MEMBER", stance="unclear", excerpt="Q9: correct - agents too", binding=True),)
    body = render_notice(record(answers=answers, status=Status.OPEN))
    assert "`/confirm Q9`" in body and "`/correct Q9 <text>`" in body
    assert "could not tell" in body


def test_a_wordless_thumbs_down_asks_for_the_right_answer() -> None:
    answers = (Answer(author="alice", association="MEMBER", stance="correct", excerpt="👎", binding=False),)
    body = render_notice(record(answers=answers, status=Status.OPEN))
    assert "`/correct Q9 <text>`" in body and "not what is right" in body


def test_a_bare_command_is_listed_without_an_empty_quote() -> None:
    answers = (Answer(author="alice", association="MEMBER", stance="confirm", excerpt="", binding=True),)
    body = render_notice(record(answers=answers, status=Status.CONFIRMED), maintainers={"alice"})
    line = next(line for line in body.splitlines() if "**confirm**" in line)
    assert "“" not in line and line.endswith("**confirm** · binding")
