"""The id grammar every reader shares (bot/core/dialect.py)."""
from __future__ import annotations

import pytest

from bot.core import dialect
from bot.core.dialect import find_ids, id_list, ids_in, item_number, normalise_id, question_key


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("**Q8.**", "Q8"),
        ("§14 Q11", "Q11"),
        ("q08", "Q8"),
        ("Q14.R1", "Q14.R1"),
        ("Q14.1", "Q14.1"),
        ("Q5a", "Q5a"),
        ("**(Q18a)**", "Q18a"),
        ("Q-clienttrust.", "Q-clienttrust"),
        ("Q-XSW", "Q-XSW"),
        ("Q5and", None),
        ("7.", None),
        ("Q99999", None),
        ("Q" + "0" * 5000 + "1", None),
    ],
)
def test_normalise_id(raw: str, expected: str | None) -> None:
    assert normalise_id(raw) == expected


def test_lists_and_ranges_are_one_match_each() -> None:
    text = "Still open: Q6–Q13. See Q2, Q7; also Q3/Q5 · Q9. Then Q-transport / Q-httpsec."
    assert [found.ids for found in find_ids(text)] == [
        ("Q6", "Q7", "Q8", "Q9", "Q10", "Q11", "Q12", "Q13"),
        ("Q2", "Q7"),
        ("Q3", "Q5", "Q9"),
        ("Q-transport", "Q-httpsec"),
    ]


def test_ids_glued_to_words_are_not_ids() -> None:
    assert ids_in("FAQ1, SQ3, Q12345, the Q3s and Q1x2") == ()


def test_a_range_too_long_is_not_expanded() -> None:
    assert ids_in("Q1–Q999") == ("Q1", "Q999")  # the two ends, not 999 ids


def test_id_list_accepts_only_labels_made_of_ids() -> None:
    assert id_list("**(Q10/Q11)**") == ("Q10", "Q11")
    assert id_list("Q6–13") == tuple(f"Q{n}" for n in range(6, 14))
    assert id_list("Q8 is the one") is None
    assert id_list("(LDAP)") is None


def test_numbered_items_and_keys() -> None:
    assert item_number("8a. Tenant isolation") == "8a"
    assert item_number("12) Twelve") == "12"
    assert item_number("1.5 is a version") is None
    assert question_key("3") == "Q3" == question_key("**Q3.**") == question_key("§14 Q3")


def test_a_capitalised_stamp_in_a_title_answers_it() -> None:
    stamp = dialect.title_answered(" — Replica trust. ANSWERED *(maintainer)*.")
    assert stamp is not None and dialect.title_word(stamp) == "answered"
    resolved = dialect.title_answered(" — Replica trust. RESOLVED.")
    assert resolved is not None and dialect.title_word(resolved) == "resolved"
    assert dialect.title_answered(" — Key hashing. NOT ANSWERED yet.") is None
    assert dialect.title_answered(" — UNRESOLVED key hashing") is None


def test_a_status_in_emphasis_right_after_a_label() -> None:
    assert dialect.status_after_label(" *resolved* — trusted input.") == "resolved"
    assert dialect.status_after_label(": _Answered (kim)_ — loopback only.") == "answered"
    assert dialect.status_after_label(" should metrics need auth? The *resolved* flag is unset.") is None
    assert dialect.status_after_label(" *(answered — kim)* loopback only.") is None  # the inline shape, read elsewhere


def test_ids_of_a_label_go_on_past_a_section_reference() -> None:
    label = dialect.question_label("**Q2 (§3), Q6–Q8, Q11 (§5/§7):** Confirm the rest.")
    assert label is not None and label.ids == ("Q2", "Q6", "Q7", "Q8", "Q11")
    single = dialect.question_label("**Q3 (§4) Is the upstream hop encrypted?** The draft assumes so.")
    assert single is not None and single.ids == ("Q3",)


@pytest.mark.parametrize(
    ("intro", "expected"),
    [
        ("**All thirteen questions are answered.** They stay for reference.", "answered"),
        ("All items below have now been **confirmed by the PMC** and folded in.", "answered"),
        ("All are settled model *(maintainer)*.", "answered"),
        ("All questions were resolved in review.", "resolved"),
        ("All questions below have been answered except Q3.", None),
        ("All wave-1 questions are answered; wave 2 is still open.", None),
        ("Several items are answered and folded above.", None),
        ("Each question awaits PMC confirmation.", None),
    ],
)
def test_an_intro_that_settles_every_question(intro: str, expected: str | None) -> None:
    assert dialect.intro_state(intro) == expected
