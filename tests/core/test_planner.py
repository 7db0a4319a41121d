"""The promotion planner: exact output on small own-words documents, plus properties.

Every document here is written for these tests, shaped like the real drafts (cloudstack's
`**Qn.**` paragraphs and `~~…~~ **RESOLVED**` notes, ranger's dated tags, kvrocks' `[ANSWERED]`
labels, db-jdo's reply lines).
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.document import parse_document
from bot.core.model import QuestionState, TagKind
from bot.core.planner import (
    HumanKind,
    PlanOptions,
    ResolveStyle,
    detect_resolve_style,
    plan_promotions,
)
from bot.core.records import Answer, Record, Status
from bot.core.tagstyle import TagStyle, detect_tag_style, render_maintainer_tag, split_inferred_tag

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "documents"


def doc(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def record(
    question_id: str,
    status: Status = Status.CONFIRMED,
    *,
    author: str = "bob",
    stance: str = "confirm",
    excerpt: str = "yes, as proposed",
    binding: bool = True,
    awaiting: tuple[str, ...] = (),
    at: str | None = "2026-06-12T09:00:00Z",
    url: str | None = None,
    more: tuple[Answer, ...] = (),
) -> Record:
    answer = Answer(author=author, association="MEMBER", stance=stance, excerpt=excerpt, url=url, at=at, binding=binding)
    return Record(
        id=question_id,
        document="HARBOUR-THREAT-MODEL.md",
        wave=None,
        title=question_id,
        question="...",
        proposed_answer=None,
        maps_to=(),
        document_state="open",
        lines=None,
        status=status,
        awaiting=awaiting,
        answers=(answer, *more),
    )


HARBOUR = doc(
    """
    # Harbour Threat Model (draft)

    ## §1 Header

    - **Provenance legend** — *(documented)* = taken from a cited file; *(maintainer)* = said by a PMC member
      on review; *(inferred)* = our reading of the code, awaiting a §14 answer.
    - **Draft confidence (provenance-tag tally):** 1 *(documented)* / 1 *(maintainer)* / 4 *(inferred)*.

    ## §3 Out of scope

    1. **The host operator.** Whoever holds root on the gateway host is trusted
       *(inferred — §14 Q1)*.
    2. **Operator-chosen plugins.** A plugin the operator installs runs with full rights *(inferred)*.

    ## §9 Properties not provided

    - Uploaded bundles are not sandboxed *(maintainer: alice)*.
    - The listing endpoint has no rate limit *(inferred)*.
    - Parsing follows the format guide *(documented — FORMAT.md)*.
    - Quotas are per tenant only *(inferred — §14 Q4)*.

    ## §14 Open questions for the maintainers

    **Q1.** Is root on the gateway host out of scope? *(maps to §3 item 1)*

    **Q2.** Are operator-chosen plugins the operator's responsibility? *(maps to §3 item 2)*

    **Q3.** Is the missing rate limit on listings deliberate? *(maps to §9)*

    **Q4.** Are quotas only enforced per tenant? *(maps to §9)*
    """
)


def replaced(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


# ---------------------------------------------------------------------------------------
# Exact output on small documents
# ---------------------------------------------------------------------------------------


def test_back_linked_tag_is_flipped_question_struck_and_tally_moved() -> None:
    plan = plan_promotions(HARBOUR, [record("Q1", excerpt="yes; root on the host is the operator")])

    assert plan.new_text == replaced(
        HARBOUR,
        ("1 *(maintainer)* / 4 *(inferred)*", "2 *(maintainer)* / 3 *(inferred)*"),
        ("   *(inferred — §14 Q1)*.", "   *(maintainer: bob — §14 Q1)*."),
        (
            "**Q1.** Is root on the gateway host out of scope? *(maps to §3 item 1)*",
            "**Q1.** ~~Is root on the gateway host out of scope?~~ **RESOLVED** *(maintainer: bob)* — "
            "yes; root on the host is the operator. *(maps to §3 item 1)*",
        ),
    )
    assert [(p.question, p.line, p.old_tag, p.new_tag) for p in plan.promotions] == [
        ("Q1", 12, "*(inferred — §14 Q1)*", "*(maintainer: bob — §14 Q1)*")
    ]
    assert plan.resolved == ("Q1",)
    assert plan.folded == ("Q1",)
    assert plan.for_humans == ()
    assert plan.tally == {"documented": 1, "maintainer": 2, "inferred": 3}


def test_diff_names_the_document_path() -> None:
    plan = plan_promotions(HARBOUR, [record("Q1")], PlanOptions(path="docs/HARBOUR.md"))
    assert plan.diff.startswith("--- a/docs/HARBOUR.md\n+++ b/docs/HARBOUR.md\n@@ ")
    assert "-   *(inferred — §14 Q1)*.\n+   *(maintainer: bob — §14 Q1)*.\n" in plan.diff


def test_path_defaults_to_the_records_document() -> None:
    plan = plan_promotions(HARBOUR, [record("Q1")])
    assert plan.path == "HARBOUR-THREAT-MODEL.md"


def test_unlinked_tag_is_resolved_through_maps_to_list_item() -> None:
    # Q2 maps to §3 item 2 only; Q1 (open) maps to item 1, so it does not contend for item 2.
    plan = plan_promotions(HARBOUR, [record("Q2", author="carol", excerpt="yes")])

    assert [(p.question, p.line, p.new_tag) for p in plan.promotions] == [("Q2", 13, "*(maintainer: carol)*")]
    assert "runs with full rights *(maintainer: carol)*." in plan.new_text
    assert "*(inferred — §14 Q1)*" in plan.new_text  # item 1 untouched
    assert plan.for_humans == ()


def test_unlinked_tag_that_an_open_question_also_maps_to_is_flagged_not_flipped() -> None:
    plan = plan_promotions(HARBOUR, [record("Q3")])

    assert plan.promotions == ()
    assert "The listing endpoint has no rate limit *(inferred)*." in plan.new_text
    (item,) = plan.for_humans
    assert item.kind is HumanKind.AMBIGUOUS_TAG
    assert item.line == 18
    assert item.question == "Q3"
    assert "Q4 (not confirmed) also maps here" in item.message
    # The question itself is still answered and folded; only the tag waits for a human.
    assert plan.resolved == ("Q3",)
    assert "1 *(maintainer)* / 4 *(inferred)*" in plan.new_text  # nothing promoted, tally unchanged


def test_unlinked_tag_two_confirmed_questions_map_to_is_flagged() -> None:
    plan = plan_promotions(HARBOUR, [record("Q3"), record("Q4", author="dave")])

    assert [(p.question, p.line, p.new_tag) for p in plan.promotions] == [("Q4", 20, "*(maintainer: dave — §14 Q4)*")]
    (item,) = plan.for_humans
    assert item.kind is HumanKind.AMBIGUOUS_TAG and item.line == 18
    assert "confirmed Q3, Q4 all map here" in item.message
    assert plan.resolved == ("Q3", "Q4")


def test_correction_is_listed_with_the_maintainers_words_not_rewritten() -> None:
    correction = record(
        "Q2",
        Status.CORRECTED,
        author="erin",
        stance="correct",
        excerpt="no: plugins are signed and we check the signature",
        url="https://github.com/example/harbour/pull/7#discussion_r11",
    )
    plan = plan_promotions(HARBOUR, [correction])

    assert plan.new_text == HARBOUR
    assert plan.diff == ""
    (item,) = plan.for_humans
    assert item.kind is HumanKind.CORRECTION
    assert item.line == 26
    assert item.question == "Q2"
    assert [(w.author, w.excerpt, w.url) for w in item.words] == [
        ("erin", "no: plugins are signed and we check the signature", "https://github.com/example/harbour/pull/7#discussion_r11")
    ]
    assert plan.folded == ()


def test_struck_question_is_listed_for_a_human() -> None:
    plan = plan_promotions(HARBOUR, [record("Q4", Status.STRUCK, stance="strike", excerpt="drop this, quotas are gone")])

    assert plan.diff == ""
    (item,) = plan.for_humans
    assert item.kind is HumanKind.STRIKE
    assert item.words[0].excerpt == "drop this, quotas are gone"


def test_only_folds_the_chosen_questions() -> None:
    records = [record("Q1"), record("Q4", author="dave")]
    plan = plan_promotions(HARBOUR, records, PlanOptions(only=frozenset({"Q4"})))

    assert [p.question for p in plan.promotions] == ["Q4"]
    assert plan.resolved == ("Q4",)
    assert "*(inferred — §14 Q1)*" in plan.new_text


@pytest.mark.parametrize(
    "unready",
    [
        record("Q1", binding=False),  # a heuristic reading only proposes
        record("Q1", awaiting=("frank",)),  # someone is still owed an answer
        record("Q1", Status.ANSWERED),
        record("Q1", Status.FOLDED),
    ],
)
def test_records_not_ready_change_nothing(unready: Record) -> None:
    plan = plan_promotions(HARBOUR, [unready])
    assert plan.diff == "" and plan.promotions == () and plan.folded == ()


def test_record_for_a_question_the_document_lacks_is_reported() -> None:
    plan = plan_promotions(HARBOUR, [record("Q40")])
    (item,) = plan.for_humans
    assert item.kind is HumanKind.UNPARSED and "Q40" in item.message


def test_applying_twice_changes_nothing() -> None:
    records = [record("Q1"), record("Q2"), record("Q3"), record("Q4")]
    first = plan_promotions(HARBOUR, records)
    second = plan_promotions(first.new_text, records)
    assert first.diff and second.diff == ""
    assert second.folded == first.folded


def test_several_logins_and_a_dated_style() -> None:
    two = record("Q1", author="bob", more=(Answer("alice", "MEMBER", "confirm", "agreed", at="2026-06-14T10:00:00Z", binding=True),))
    plan = plan_promotions(HARBOUR, [two], PlanOptions(with_date=True))
    assert plan.promotions[0].new_tag == "*(maintainer: bob, alice, 2026-06-14 — §14 Q1)*"


# ---------------------------------------------------------------------------------------
# Other document shapes
# ---------------------------------------------------------------------------------------

DATED = doc(
    """
    # Keel Threat Model

    ## §4 Trust boundaries

    1. **Agent to server.** Agents authenticate with a shared token *(maintainer, 2026-06-12 — §14 Q1)*.
    2. **Operators** may read all audit records *(inferred — §14 Q2/Q3)*.
    3. **Auditors** cannot write policy *(inferred — §14 Q2)*.

    ## §14 Open questions — answered by the Keel PMC

    **Q1.** ~~Do agents authenticate?~~ **RESOLVED** *(maintainer, 2026-06-12)* — yes, shared token.

    **Q2.** Can auditors write policy? *(maps to §4)*

    **Q3.** Can operators read every audit record? *(maps to §4)*
    """
)


def test_dated_style_is_detected_and_a_multi_link_tag_waits_for_every_question() -> None:
    # The document's own maintainer tags name nobody; a promotion still says who confirmed it.
    plan = plan_promotions(DATED, [record("Q2", at="2026-07-01T08:00:00Z")])

    assert [(p.line, p.new_tag) for p in plan.promotions] == [(7, "*(maintainer: bob, 2026-07-01 — §14 Q2)*")]
    (item,) = plan.for_humans
    assert item.kind is HumanKind.AMBIGUOUS_TAG and item.line == 6 and "Q3" in item.message
    assert "**Q2.** ~~Can auditors write policy?~~ **RESOLVED** *(maintainer: bob, 2026-07-01)* — yes, as proposed. *(maps to §4)*" in plan.new_text


def test_multi_link_tag_flips_once_all_its_questions_are_confirmed() -> None:
    plan = plan_promotions(DATED, [record("Q2", author="bob"), record("Q3", author="alice")])
    assert (6, "Q2/Q3", "*(maintainer: bob, alice, 2026-06-12 — §14 Q2/Q3)*") in [
        (p.line, p.question, p.new_tag) for p in plan.promotions
    ]


def test_multi_link_tag_flips_when_the_other_question_is_already_folded() -> None:
    plan = plan_promotions(DATED, [record("Q2"), record("Q3", Status.FOLDED)])
    assert [p.line for p in plan.promotions] == [6, 7]


LABELLED = doc(
    """
    # Tern Threat Model

    ## §5 Environment

    - The store is trusted *(inferred — §14 Q1)*.
    - Node addresses are not filtered *(inferred — §14 Q2)*.

    ## §14 Open questions for the maintainers

    **Wave 1 — store and nodes:**
    1. **[ANSWERED — gina]** Is the store trusted? **Yes.**
    2. Are node addresses filtered?
    """
)


def test_labelled_answers_follow_the_document() -> None:
    plan = plan_promotions(LABELLED, [record("2", author="gina", excerpt="no, all addresses are allowed")])

    assert "2. **[ANSWERED — gina]** Are node addresses filtered? — no, all addresses are allowed.\n" in plan.new_text
    assert "Node addresses are not filtered *(maintainer: gina — §14 Q2)*." in plan.new_text
    assert plan_promotions(plan.new_text, [record("2", author="gina")]).diff == ""


REPLIES = doc(
    """
    # Wren Threat Model

    ## §3 Out of scope

    1. **The datastore** is a trusted peer *(inferred — §14 Q2)*.

    ## §14 Open questions for the maintainers

    - **Q1.** Is the API jar an in-process library? (Lands in §2.)
      - (**maintainer**) Confirmed.
    - **Q2.** Is the datastore a trusted peer? (Lands in §3.)
    """
)


def test_reply_lines_follow_the_document() -> None:
    assert detect_resolve_style(parse_document(REPLIES), REPLIES) is ResolveStyle.REPLY
    plan = plan_promotions(REPLIES, [record("Q2", author="hal", excerpt="yes")])

    assert plan.new_text.endswith(
        "- **Q2.** Is the datastore a trusted peer? (Lands in §3.)\n  - *(maintainer: hal)* yes.\n"
    )
    reparsed = parse_document(plan.new_text)
    assert reparsed.question("Q2").state is not QuestionState.OPEN
    assert plan_promotions(plan.new_text, [record("Q2", author="hal", excerpt="yes")]).diff == ""


# ---------------------------------------------------------------------------------------
# Tag style
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "style", "expected"),
    [
        ("*(inferred — §14 Q11)*", TagStyle(), "*(maintainer: a, b — §14 Q11)*"),
        ("*(inferred)*", TagStyle(), "*(maintainer: a, b)*"),
        ("*(inferred —\n   §14 Q3)*", TagStyle(), "*(maintainer: a, b —\n   §14 Q3)*"),
        ("*(documented + inferred — §14 Q7)*", TagStyle(), "*(documented + maintainer: a, b — §14 Q7)*"),
        ("_(inferred: the cache is load-bearing)_", TagStyle(), "_(maintainer: a, b — the cache is load-bearing)_"),
        ("*(inferred — §14 Q8)*", TagStyle(name_maintainers=False, with_date=True), "*(maintainer, 2026-06-12 — §14 Q8)*"),
        ("*(inferred — §14 Q8)*", TagStyle(keep_backlink=False), "*(maintainer: a, b)*"),
        ("*(inferred — mechanism to be confirmed)*", TagStyle(keep_backlink=False), "*(maintainer: a, b — mechanism to be confirmed)*"),
    ],
)
def test_render_maintainer_tag(raw: str, style: TagStyle, expected: str) -> None:
    parts = split_inferred_tag(raw)
    assert parts is not None
    assert render_maintainer_tag(parts, style, ("a", "b"), "2026-06-12") == expected


def test_a_tag_not_spelled_inferred_first_is_not_taken_apart() -> None:
    assert split_inferred_tag("*(semantics inferred)*") is None
    assert split_inferred_tag("*(maps to §3)*") is None


def test_detect_tag_style_follows_the_majority() -> None:
    assert detect_tag_style(parse_document(DATED).tags) == TagStyle(name_maintainers=False, with_date=True)
    assert detect_tag_style(parse_document(HARBOUR).tags) == TagStyle(name_maintainers=True, with_date=False)
    assert detect_tag_style(()) == TagStyle()


# ---------------------------------------------------------------------------------------
# The cloudstack-shaped fixture
# ---------------------------------------------------------------------------------------

CLOUDSTACK_SHAPED = FIXTURES / "cloudstack-shaped.md"


@pytest.mark.skipif(not CLOUDSTACK_SHAPED.exists(), reason="fixture not written yet")
def test_cloudstack_shaped_fixture_confirm_everything_then_idempotent() -> None:
    text = CLOUDSTACK_SHAPED.read_text(encoding="utf-8")
    document = parse_document(text)
    records = [record(q.id, author="maint1", excerpt="confirmed") for q in document.questions]
    plan = plan_promotions(text, records)

    linked_inferred = [t for t in document.tags if t.kind is TagKind.INFERRED and t.questions]
    assert {(p.line, p.old_tag) for p in plan.promotions} >= {(t.line, t.raw) for t in linked_inferred}
    assert plan_promotions(plan.new_text, records).diff == ""
    after = parse_document(plan.new_text)
    assert all(q.state is not QuestionState.OPEN for q in after.questions)
    if document.tally.stated:
        assert after.tally.stated["maintainer"] == document.tally.stated["maintainer"] + len(plan.promotions)


# ---------------------------------------------------------------------------------------
# Retiring by removal (`retire: remove`)
# ---------------------------------------------------------------------------------------

REMOVE = PlanOptions(resolve_style=ResolveStyle.REMOVE)
NUMBERED = FIXTURES / "numbered-list-shaped.md"


def test_remove_deletes_the_answered_entry_and_leaves_the_rest_as_it_was() -> None:
    plan = plan_promotions(HARBOUR, [record("Q2", author="carol", excerpt="yes")], REMOVE)

    assert plan.new_text == replaced(
        HARBOUR,
        ("1 *(maintainer)* / 4 *(inferred)*", "2 *(maintainer)* / 3 *(inferred)*"),
        ("runs with full rights *(inferred)*.", "runs with full rights *(maintainer: carol)*."),
        ("**Q2.** Are operator-chosen plugins the operator's responsibility? *(maps to §3 item 2)*\n\n", ""),
    )
    assert (plan.removed, plan.resolved, plan.folded, plan.for_humans) == (("Q2",), (), ("Q2",), ())
    before, after = parse_document(HARBOUR), parse_document(plan.new_text)
    assert [(q.id, q.text, q.state) for q in after.questions] == [
        (q.id, q.text, q.state) for q in before.questions if q.id != "Q2"
    ]
    assert after.tally.stated == plan.tally == {"documented": 1, "maintainer": 2, "inferred": 3}


def test_removing_the_last_entry_leaves_no_trailing_blank_line() -> None:
    plan = plan_promotions(HARBOUR, [record("Q4")], REMOVE)
    assert plan.new_text.endswith("deliberate? *(maps to §9)*\n")
    assert [q.id for q in parse_document(plan.new_text).questions] == ["Q1", "Q2", "Q3"]


def test_removing_every_entry_leaves_the_section_and_its_heading() -> None:
    plan = plan_promotions(HARBOUR, [record(q) for q in ("Q1", "Q2", "Q3", "Q4")], REMOVE)
    assert plan.new_text.endswith("*(maintainer: bob — §14 Q4)*.\n\n## §14 Open questions for the maintainers\n")
    after = parse_document(plan.new_text)
    assert after.has_open_questions_section and after.questions == ()


def test_remove_takes_continuation_lines_and_proposed_answers_and_keeps_every_other_question() -> None:
    text = CLOUDSTACK_SHAPED.read_text(encoding="utf-8")
    chosen = ("Q3", "Q5", "Q6", "Q8")
    plan = plan_promotions(text, [record(q) for q in chosen], REMOVE)

    assert plan.removed == chosen and plan.folded == chosen
    before, after = parse_document(text), parse_document(plan.new_text)
    assert [(q.id, q.wave, q.text, q.state, q.maps_to) for q in after.questions] == [
        (q.id, q.wave, q.text, q.state, q.maps_to) for q in before.questions if q.id not in chosen
    ]
    for gone in (
        "**Q3.** Is the holder of the scheduler signing key out of scope\n",
        "(proposed: **yes**, `OUT-OF-MODEL: adversary-not-in-scope`)? *(maps to\n§3 item 1, §7)*\n",
        "bound. Confirm. *(maps to §6, §9)*",
        "**Q6.** Does `auth.required` default to on in every packaging?",
        "**Q8.** Can an include fetch a manifest from a remote URL?",
    ):
        assert gone not in plan.new_text
    questions = plan.new_text[plan.new_text.index("## §14") :]
    assert "\n\n\n" not in questions
    assert "removed in 3.0. *(maps to §5a)*\n\n### Wave 2 — defaults and environment\n\n**Q4.**" in questions
    assert "operator problem. *(maps to §5)*\n\n**Q7.**" in questions  # Q5 and Q6: one run, one gap kept
    assert "since 3.1. *(maps to §6)*\n\n### Wave 3" in questions
    # Only §14 loses lines: every tag before it stays on its line.
    cut = before.section("§14").span.start_line
    assert [(t.line, t.col_start) for t in after.tags if t.line < cut] == [(t.line, t.col_start) for t in before.tags if t.line < cut]


@pytest.mark.parametrize(
    ("chosen", "joined"),
    [
        (("2",), "say so in their header.\n\n**Wave 2 — storage and limits (reshapes §5, §6):**\n"),
        (("4",), "the installer sets mode 0700.\n5. *(→ §5a, §10)*"),
        (("5",), "bounded (proposed: **yes**)?\n\n---\n"),
        (("3", "4", "5"), "**Wave 2 — storage and limits (reshapes §5, §6):**\n\n---\n"),
    ],
)
def test_remove_keeps_a_tight_list_tight_and_a_loose_one_loose(chosen: tuple[str, ...], joined: str) -> None:
    text = NUMBERED.read_text(encoding="utf-8")
    plan = plan_promotions(text, [record(q) for q in chosen], REMOVE)

    assert joined in plan.new_text
    # The items keep their numbers: a numbered §14's ids are those numbers.
    assert [q.id for q in parse_document(plan.new_text).questions] == [q for q in ("1", "2", "3", "4", "5") if q not in chosen]


def test_remove_takes_a_code_block_inside_the_entry_with_it() -> None:
    text = doc(
        """
        # Tern Threat Model

        ## §14 Open questions for the maintainers

        **Q1.** Does the loader accept this sample?

        ```
        key: value
        ```

        It is the one we ship.

        **Q2.** Is the sample kept?
        """
    )
    plan = plan_promotions(text, [record("Q1")], REMOVE)
    assert plan.new_text == "# Tern Threat Model\n\n## §14 Open questions for the maintainers\n\n**Q2.** Is the sample kept?\n"


def test_a_stated_tally_after_the_questions_still_moves() -> None:
    # The tally is edited in the first pass, the removal in the second: offsets never mix.
    text = doc(
        """
        # Plover Threat Model

        ## §3 Scope

        Only the daemon is in scope *(inferred — §14 Q1)*.

        ## §14 Open questions for the maintainers

        **Q1.** Is only the daemon in scope?
        (proposed: **yes**)

        **Q2.** Is the admin socket local only?

        ## Summary

        - **Draft confidence:** 0 *(documented)* / 0 *(maintainer)* / 1 *(inferred)*.
        """
    )
    plan = plan_promotions(text, [record("Q1")], REMOVE)
    assert plan.new_text.endswith(
        "## §14 Open questions for the maintainers\n\n**Q2.** Is the admin socket local only?\n\n"
        "## Summary\n\n- **Draft confidence:** 0 *(documented)* / 1 *(maintainer)* / 0 *(inferred)*.\n"
    )
    assert parse_document(plan.new_text).tally.stated == {"documented": 0, "maintainer": 1, "inferred": 0}


SHARED = doc(
    """
    # Osprey Threat Model

    ## §4 Boundaries

    - Sibling repositories are out of scope *(inferred — §14 Q2/Q3)*.

    ## §14 Open questions for the maintainers

    - **Q1.** Is the CLI in scope?
    - **Q2 / Q3.** Are the sibling repositories out of scope, and do they share our release?
    - **Q4.** Is the cache trusted?
    """
)


def test_a_shared_entry_stays_until_every_question_in_it_is_folded() -> None:
    first = plan_promotions(SHARED, [record("Q2")], REMOVE)
    assert first.diff == ""  # the tag also cites Q3, and the entry would take Q3 with it
    assert (first.folded, first.removed) == (("Q2",), ())
    (shared,) = [item for item in first.for_humans if item.kind is HumanKind.SHARED_ENTRY]
    assert (shared.question, shared.line) == ("Q2", 10) and "with Q3, still open" in shared.message

    later = plan_promotions(SHARED, [record("Q2", Status.FOLDED), record("Q3")], REMOVE)
    assert (later.folded, later.removed) == (("Q3",), ("Q2", "Q3"))
    assert later.new_text.endswith("- **Q1.** Is the CLI in scope?\n- **Q4.** Is the cache trusted?\n")
    assert "out of scope *(maintainer: bob — §14 Q2/Q3)*." in later.new_text


def test_planning_again_after_a_removal_changes_nothing_and_folds_the_same() -> None:
    # The fold commit can land before the records are saved: the next plan sees the entries
    # gone and the records still confirmed, and must fold them without another edit.
    records = [record("Q1"), record("Q2"), record("Q4")]
    first = plan_promotions(HARBOUR, records, REMOVE)
    second = plan_promotions(first.new_text, records, REMOVE)

    assert first.removed == ("Q1", "Q2", "Q4")
    assert second.diff == "" and second.removed == () and second.promotions == ()
    assert second.folded == first.folded
    assert second.for_humans == ()


def test_an_entry_deleted_by_hand_still_gets_its_tags_flipped() -> None:
    by_hand = replaced(HARBOUR, ("\n**Q4.** Are quotas only enforced per tenant? *(maps to §9)*\n", ""))
    plan = plan_promotions(by_hand, [record("Q4", author="dave")], REMOVE)

    assert plan.new_text == replaced(
        by_hand,
        ("1 *(maintainer)* / 4 *(inferred)*", "2 *(maintainer)* / 3 *(inferred)*"),
        ("Quotas are per tenant only *(inferred — §14 Q4)*.", "Quotas are per tenant only *(maintainer: dave — §14 Q4)*."),
    )
    assert (plan.folded, plan.removed) == (("Q4",), ())
    # Styles that mark questions resolved still hand a missing question to a person.
    struck = plan_promotions(by_hand, [record("Q4")], PlanOptions(resolve_style=ResolveStyle.STRIKE))
    assert struck.diff == "" and struck.folded == ()
    assert [item.kind for item in struck.for_humans] == [HumanKind.UNPARSED]


# ---------------------------------------------------------------------------------------
# Properties over generated documents
# ---------------------------------------------------------------------------------------

SECTIONS = ("§3", "§5", "§7", "§9")
LOGINS = st.sampled_from(("alice", "bob", "carol-x", "dave9"))


@st.composite
def generated_case(draw: st.DrawFn) -> tuple[str, list[Record], dict[int, str]]:
    """A document from a small grammar (sections of claims with tags; §14 of questions) and records.

    Returns the text, the records, and {line: question id} for each back-linked inferred tag.
    """
    question_count = draw(st.integers(min_value=1, max_value=6))
    ids = [f"Q{n}" for n in range(1, question_count + 1)]
    lines = ["# Generated Threat Model", "", "## §1 Header", ""]
    tally_at = len(lines)
    lines.append("- **Draft confidence (provenance-tag tally):** {d} *(documented)* / {m} *(maintainer)* / {i} *(inferred)*.")
    counts = {"d": 0, "m": 0, "i": 0}
    linked: dict[int, str] = {}
    for label in SECTIONS:
        lines += ["", f"## {label} Claims", ""]
        for number in range(1, draw(st.integers(min_value=0, max_value=4)) + 1):
            kind = draw(st.sampled_from(("inferred-linked", "inferred-bare", "documented", "maintainer")))
            if kind == "inferred-linked":
                target = draw(st.sampled_from(ids))
                tag = f"*(inferred — §14 {target})*"
                linked[len(lines) + 1] = target
                counts["i"] += 1
            elif kind == "inferred-bare":
                tag = "*(inferred)*"
                counts["i"] += 1
            elif kind == "documented":
                tag = "*(documented — README)*"
                counts["d"] += 1
            else:
                tag = f"*(maintainer: {draw(LOGINS)})*"
                counts["m"] += 1
            lines.append(f"{number}. **Claim {number}.** The thing holds as stated {tag}.")
    lines[tally_at] = lines[tally_at].format(**counts)
    lines += ["", "## §14 Open questions for the maintainers", ""]
    for question_id in ids:
        maps = draw(st.lists(st.sampled_from(SECTIONS), min_size=1, max_size=2, unique=True))
        lines += [f"**{question_id}.** Does claim {question_id[1:]} hold? *(maps to {', '.join(maps)})*", ""]
    text = "\n".join(lines)
    statuses = st.sampled_from((Status.CONFIRMED, Status.CONFIRMED, Status.OPEN, Status.CORRECTED))
    records = [
        record(question_id, status, author=draw(LOGINS), stance="correct" if status is Status.CORRECTED else "confirm")
        for question_id in ids
        if (status := draw(statuses)) is not Status.OPEN
    ]
    return text, records, linked


@pytest.mark.parametrize("resolve_style", [None, ResolveStyle.REMOVE], ids=["detected", "remove"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_case())
def test_plans_are_idempotent(resolve_style: ResolveStyle | None, case: tuple[str, list[Record], dict[int, str]]) -> None:
    text, records, _ = case
    options = PlanOptions(resolve_style=resolve_style)
    first = plan_promotions(text, records, options)
    second = plan_promotions(first.new_text, records, options)
    assert second.diff == ""
    assert second.folded == first.folded


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_case())
def test_removal_keeps_every_other_question_and_the_body_in_place(case: tuple[str, list[Record], dict[int, str]]) -> None:
    text, records, _ = case
    plan = plan_promotions(text, records, REMOVE)
    confirmed = {r.id for r in records if r.status is Status.CONFIRMED}
    before, after = parse_document(text), parse_document(plan.new_text)

    assert set(plan.removed) == set(plan.folded) == confirmed
    assert [(q.id, q.text, q.maps_to) for q in after.questions] == [
        (q.id, q.text, q.maps_to) for q in before.questions if q.id not in confirmed
    ]
    # Only §14 loses lines, so every promotion is still on the line the plan names.
    promoted = {tag.line: tag.raw for tag in after.tags}
    assert all(promoted[p.line] == p.new_tag for p in plan.promotions)
    assert after.tally.stated == plan.tally


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_case())
def test_promoted_tags_parse_as_maintainer_tags_with_the_same_back_links(
    case: tuple[str, list[Record], dict[int, str]],
) -> None:
    text, records, linked = case
    plan = plan_promotions(text, records)
    confirmed = {r.id for r in records if r.status is Status.CONFIRMED}
    after = {tag.line: tag for tag in parse_document(plan.new_text).tags}

    assert {p.line for p in plan.promotions if p.line in linked} == {
        line for line, question_id in linked.items() if question_id in confirmed
    }
    for promotion in plan.promotions:
        tag = after[promotion.line]
        assert tag.kind is TagKind.MAINTAINER
        assert tag.raw == promotion.new_tag
        assert tag.questions == ((linked[promotion.line],) if promotion.line in linked else ())
    # The stated tally moves by the promotions; inferred tags live only in the body, so the
    # stated inferred figure still equals the count (§14 RESOLVED notes add maintainer tags the
    # document's own tally does not count, so maintainer is checked by the delta).
    before, after_tally = parse_document(text).tally, parse_document(plan.new_text).tally
    assert after_tally.stated["maintainer"] == before.stated["maintainer"] + len(plan.promotions)
    assert after_tally.stated["inferred"] == after_tally.counted["inferred"]


def test_arrow_cross_reference_stays_outside_the_strike() -> None:
    text = doc(
        """
        # Finch Threat Model

        ## §14 Open questions for the maintainers

        1. **Audit integrity:** Is a forged audit record a finding? (→ §8 #4, §9)
        """
    )
    plan = plan_promotions(text, [record("1", excerpt="yes")])
    assert plan.new_text.endswith(
        "1. ~~**Audit integrity:** Is a forged audit record a finding?~~ **RESOLVED** *(maintainer: bob)* — yes. (→ §8 #4, §9)\n"
    )


@pytest.mark.parametrize("resolve_style", [ResolveStyle.STRIKE, ResolveStyle.REMOVE])
def test_a_form_feed_or_line_separator_in_the_prose_does_not_shift_the_lines(resolve_style: ResolveStyle) -> None:
    # The parser breaks lines at "\n" only; str.splitlines would also break at these two and
    # put every later question one line off, so the plan would edit (or delete) Q1 for Q2.
    text = doc(
        """
        # Heron Threat Model

        ## §3 Scope

        A page break\x0cin the prose, and a line separator\u2028too.

        ## §14 Open questions for the maintainers

        **Q1.** Is the relay in scope?

        **Q2.** Is the archive in scope?
        """
    )
    plan = plan_promotions(text, [record("Q2")], PlanOptions(resolve_style=resolve_style))
    after = {question.id: question for question in parse_document(plan.new_text).questions}
    assert after["Q1"].state is QuestionState.OPEN and after["Q1"].text == "Is the relay in scope?"
    assert "Q2" not in after if resolve_style is ResolveStyle.REMOVE else after["Q2"].state is QuestionState.RESOLVED


def test_an_accepted_promotion_proposal_counts_as_a_confirmation() -> None:
    """A maintainer's free-text "yes" becomes a proposal; once accepted, the question folds."""
    from bot.core.planner import is_ready_to_fold
    from bot.core.records import Answer, Proposal, ProposalState, Record, Status

    reply = Answer(author="alice", association="MEMBER", stance="confirm", excerpt="yes", binding=False, comment_id=7)
    base = dict(id="Q9", document="d.md", wave=None, title="t", question="q", proposed_answer=None, maps_to=(),
                document_state="open", lines=None, status=Status.CONFIRMED, answers=(reply,))
    pending = Proposal(id="Q9-promote-c7", kind="promote", state=ProposalState.PROPOSED, summary="s", comment_id=7)
    assert not is_ready_to_fold(Record(**base, proposals=(pending,)))
    accepted = Proposal(id="Q9-promote-c7", kind="promote", state=ProposalState.ACCEPTED, summary="s", comment_id=7)
    assert is_ready_to_fold(Record(**base, proposals=(accepted,)))


# ---------------------------------------------------------------------------------------
# Entries with several ids, and tag spellings that must stay well formed
# ---------------------------------------------------------------------------------------

PAIRED = doc(
    """
    # Plover Threat Model

    ## §5 Environment

    - The relay trusts the broker *(inferred — §14 Q5)*.
    - Broker tokens never expire *(inferred — §14 Q10)*.

    ## §14 Open questions for the maintainers

    **Q5/Q10.** Does the relay trust the broker, and do broker tokens expire? *(maps to §5)*

    **Q11.** Is the spool encrypted?
    """
)


def test_confirming_one_id_of_a_shared_entry_never_marks_the_others_resolved() -> None:
    plan = plan_promotions(PAIRED, [record("Q5", author="ann")])

    assert "The relay trusts the broker *(maintainer: ann — §14 Q5)*." in plan.new_text
    assert "**Q5/Q10.** Does the relay trust the broker, and do broker tokens expire?" in plan.new_text
    assert "RESOLVED" not in plan.new_text and plan.resolved == ()
    (waiting,) = [item for item in plan.for_humans if item.kind is HumanKind.SHARED_ENTRY]
    assert waiting.question == "Q5" and "Q10" in waiting.message
    after = {question.id: question.state for question in parse_document(plan.new_text).questions}
    assert after == {"Q5": QuestionState.OPEN, "Q10": QuestionState.OPEN, "Q11": QuestionState.OPEN}
    assert plan_promotions(plan.new_text, [record("Q5", author="ann")]).diff == ""


def test_a_shared_entry_is_marked_once_every_id_is_confirmed_naming_every_confirmer() -> None:
    plan = plan_promotions(PAIRED, [record("Q5", Status.FOLDED, author="ann", excerpt="yes"), record("Q10", author="ben", excerpt="no")])

    assert (
        "**Q5/Q10.** ~~Does the relay trust the broker, and do broker tokens expire?~~ **RESOLVED** "
        "*(maintainer: ann, ben)* — Q5: yes. Q10: no. *(maps to §5)*\n"
    ) in plan.new_text
    assert plan.resolved == ("Q10",) and plan.folded == ("Q10",)
    both = plan_promotions(PAIRED, [record("Q5", author="ann"), record("Q10", author="ben")])
    assert both.new_text.count("**RESOLVED**") == 1 and both.resolved == ("Q5", "Q10")
    assert not [item for item in both.for_humans if item.kind is HumanKind.UNPARSED]


ARROWS = doc(
    """
    # Sandpiper Threat Model

    ## §1 Header

    - Reviewed claims: *(maintainer, 2026-05-02 — §14 Q1)*.

    ## §6 Assumptions

    - The loader runs unprivileged *(inferred → Q7)*.
    - Plugins are signed *(inferred — → Q8)*.

    ## §14 Open questions for the maintainers

    **Q1.** ~~Is the CLI local?~~ **RESOLVED** *(maintainer, 2026-05-02)* — yes.

    **Q7.** Does the loader run unprivileged?

    **Q8.** Are plugins signed?
    """
)


def test_an_arrow_back_link_comes_out_well_formed_with_the_login() -> None:
    plan = plan_promotions(ARROWS, [record("Q7", author="ivy", at="2026-06-01T10:00:00Z"), record("Q8", author="ivy")])

    new_tags = [promotion.new_tag for promotion in plan.promotions]
    assert all("— →" not in tag and "ivy" in tag for tag in new_tags), new_tags
    promoted = {tag.line: tag for tag in parse_document(plan.new_text).tags if tag.kind is TagKind.MAINTAINER}
    assert [(promoted[p.line].maintainers, promoted[p.line].questions) for p in plan.promotions] == [
        (("ivy",), ("Q7",)),
        (("ivy",), ("Q8",)),
    ]


@pytest.mark.parametrize(
    ("written", "lead"),
    [
        ("*(maintainer: dora)*", ": "),
        ("*(maintainer — dora)*", " — "),
        ("*(maintainer — dora, §14 Q1)*", " — "),
    ],
)
def test_the_login_is_spelled_the_way_the_document_names_its_maintainers(written: str, lead: str) -> None:
    text = replaced(ARROWS, ("*(maintainer, 2026-05-02 — §14 Q1)*", written))
    assert detect_tag_style(parse_document(text).tags).login_lead == lead
    plan = plan_promotions(text, [record("Q8", author="ivy")])
    tag = next(tag for tag in parse_document(plan.new_text).tags if tag.line == plan.promotions[0].line)
    assert tag.kind is TagKind.MAINTAINER and tag.maintainers == ("ivy",) and tag.questions == ("Q8",)


PARTLY = doc(
    """
    # Godwit Threat Model

    ## §14 Open questions for the maintainers

    - **Q1.** Is the importer sandboxed?

      *(maintainer: uma)* Yes, it runs in its own process.
    - **Q2.** *(Partially answered — PMC: the size cap is in review.)* Are uploads capped?
    """
)


def test_an_entry_the_reader_would_still_see_open_is_marked_resolved_instead() -> None:
    # A reply under a "partially answered" note does not answer the question for the reader,
    # so the next plan would add it again: the planner marks it **RESOLVED** instead.
    assert detect_resolve_style(parse_document(PARTLY), PARTLY) is ResolveStyle.REPLY
    plan = plan_promotions(PARTLY, [record("Q2", author="uma", excerpt="yes, 10 MB")])

    assert plan.new_text.endswith(
        "- **Q2.** *(Partially answered — PMC: the size cap is in review.)* Are uploads capped? "
        "**RESOLVED** *(maintainer: uma)* — yes, 10 MB.\n"
    )
    assert parse_document(plan.new_text).question("Q2").state is QuestionState.RESOLVED
    assert plan_promotions(plan.new_text, [record("Q2", author="uma")]).diff == ""


SPREAD = doc(
    """
    # Dunlin Threat Model

    ## §14 Open questions for the maintainers

    **Q1.** Does the agent verify the manifest
    signature before it loads a plugin?
    ```yaml
    verify: true
    ```

    The loader reads the manifest first.

    | field | checked |
    |---|---|
    | sig | ? |

    **Q2.** Is the spool trusted when it sits in the share at \\\\relay\\spool\\
    """
)


@pytest.mark.parametrize("question", ["Q1", "Q2"])
def test_strike_through_stays_inside_one_paragraph_and_renders(question: str) -> None:
    from markdown_it import MarkdownIt

    plan = plan_promotions(SPREAD, [record(question, excerpt="yes")], PlanOptions(resolve_style=ResolveStyle.STRIKE))
    rendered = MarkdownIt("commonmark").enable(["strikethrough", "table"]).render(plan.new_text)
    if question == "Q1":
        # The fence right under the question ends its paragraph: the strike closes before it.
        assert "**Q1.** ~~Does the agent verify the manifest\nsignature before it loads a plugin?~~ **RESOLVED**" in plan.new_text
        assert "<s>Does the agent verify the manifest\nsignature before it loads a plugin?</s>" in rendered
        assert "```yaml\nverify: true\n```" in plan.new_text
    else:
        # The closing `~~` after a trailing backslash would be escaped: marked without a strike.
        assert "\\spool\\ **RESOLVED** *(maintainer: bob)* — yes.\n" in plan.new_text and "~~Is" not in plan.new_text
    assert rendered.count("~~") == MarkdownIt("commonmark").enable(["strikethrough", "table"]).render(SPREAD).count("~~")
    assert parse_document(plan.new_text).question(question).state is QuestionState.RESOLVED
    assert plan_promotions(plan.new_text, [record(question)], PlanOptions(resolve_style=ResolveStyle.STRIKE)).diff == ""


def test_retire_remove_takes_the_whole_entry_with_its_code_and_table() -> None:
    plan = plan_promotions(SPREAD, [record("Q1")], REMOVE)

    assert plan.removed == ("Q1",)
    assert plan.new_text == doc(
        """
        # Dunlin Threat Model

        ## §14 Open questions for the maintainers

        **Q2.** Is the spool trusted when it sits in the share at \\\\relay\\spool\\
        """
    )


WAVES = doc(
    """
    # Avocet Threat Model

    ## §14 Open questions for the maintainers

    **Wave 1 — transport**

    - **Q1.** Is TLS required between nodes?
    - **Q2.** Are client certificates checked?

    **Wave 2 — storage**

    Both questions below came out of the storage review.

    - **Q3.** Is the journal encrypted?
    """
)


def test_removing_every_entry_of_a_group_takes_its_label_but_never_an_intro() -> None:
    plan = plan_promotions(WAVES, [record("Q1"), record("Q2"), record("Q3")], REMOVE)

    # Wave 1 was only its label and its entries: nothing of it stays. Wave 2 has an intro,
    # which would be left under no label, so its label stays with it.
    assert plan.new_text == doc(
        """
        # Avocet Threat Model

        ## §14 Open questions for the maintainers

        **Wave 2 — storage**

        Both questions below came out of the storage review.
        """
    )
    assert plan_promotions(plan.new_text, [record("Q1"), record("Q2"), record("Q3")], REMOVE).diff == ""


def test_a_document_that_spells_maintainer_tags_confirmed_gets_confirmed_tags() -> None:
    text = replaced(
        ARROWS,
        ("*(maintainer, 2026-05-02 — §14 Q1)*", "*(confirmed — see §14 Q1)*"),
        ("*(maintainer, 2026-05-02)* — yes.", "*(confirmed)* — yes."),
    )
    assert detect_tag_style(parse_document(text).tags).kind_word == "confirmed"
    plan = plan_promotions(text, [record("Q8", author="ivy")])
    assert "Plugins are signed *(confirmed: ivy → Q8)*." in plan.new_text or (
        "Plugins are signed *(confirmed: ivy — Q8)*." in plan.new_text
    )
    tag = next(tag for tag in parse_document(plan.new_text).tags if tag.line == plan.promotions[0].line)
    assert tag.kind is TagKind.MAINTAINER and tag.maintainers == ("ivy",)
