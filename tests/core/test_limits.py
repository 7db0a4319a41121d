"""The shared bounds and marker-safe text every writer of the bot uses."""
from __future__ import annotations

from bot.core.limits import ISSUE_TITLE_MAX_CHARS, document_problem, followup_title_problem
from bot.core.markdown import bounded, defuse_comments, marker_text


def test_marker_text_cannot_open_or_close_a_hidden_comment() -> None:
    hostile = "fix --> <img src=x onerror=alert(1)> <!-- @someone"
    safe = marker_text(hostile)
    assert "-->" not in safe and "<!--" not in safe and "<" not in safe and "@someone" not in safe
    assert f"<!-- marker {safe} -->".count("-->") == 1


def test_marker_text_is_one_bounded_line() -> None:
    safe = marker_text("a\nb " * 500, 50)
    assert "\n" not in safe and len(safe) <= 50 and safe.endswith("…")


def test_defused_text_keeps_its_words() -> None:
    assert defuse_comments("see <!-- this --> here") == "see &lt;!-- this --&gt; here"
    assert defuse_comments("a -> b") == "a -> b"


def test_bounded_keeps_short_text_and_cuts_long_text() -> None:
    assert bounded("short", 10) == "short"
    assert bounded("x" * 20, 10) == "x" * 9 + "…"


def test_followup_titles_follow_githubs_limit() -> None:
    assert followup_title_problem("x" * ISSUE_TITLE_MAX_CHARS) is None
    assert "256" in (followup_title_problem("x" * (ISSUE_TITLE_MAX_CHARS + 1)) or "")


def test_document_limits() -> None:
    assert document_problem("# model\n", 100) is None
    assert "500" in (document_problem("# model\n", 5000) or "")
    assert "KB" in (document_problem("x" * (2 * 1024 * 1024)) or "")


def test_a_thousand_notes_quote_as_a_bounded_few() -> None:
    from bot.core.markdown import NOTES_PER_COMMENT, quoted_notes

    lines = quoted_notes([f"line {n}: /confirm Q{n} is not a tracked question " * 20 for n in range(1000)])
    assert len(lines) == NOTES_PER_COMMENT + 1 and lines[-1] == f"> … and {1000 - NOTES_PER_COMMENT} more notes"
    assert sum(len(line) for line in lines) < 3_000
