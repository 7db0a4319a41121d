"""What one person's content may cost the bot, and the rule for each limit (pure).

Anyone can comment on a public PR or open one from a fork, so every input the bot reads or
writes has a bound. Over a limit the bot does no work on that input and says so once, briefly.
The README's Security section lists these.
"""
from __future__ import annotations

# GitHub's own limits: a comment body is at most 65,536 characters, an issue title 256.
COMMENT_MAX_CHARS = 65_536
ISSUE_TITLE_MAX_CHARS = 256

CONFIG_MAX_BYTES = 8 * 1024  # a real .github/threat-model-bot.yml is well under 1 KB
CONFIG_MAX_DEPTH = 8  # the deepest real key, family.satellites[i], is three levels down
CONFIG_MAX_PROBLEMS = 20  # the error comment lists at most this many (and says how many more)
PROBLEM_MAX_CHARS = 200  # one line of that comment

DOCUMENT_MAX_BYTES = 1024 * 1024  # real threat models are 20-150 KB
DOCUMENT_MAX_QUESTIONS = 500  # the largest real §14 has about 100 questions

REMARK_MAX_CHARS = 60_000  # any one-off remark: under GitHub's comment limit, whatever it quotes
DIFF_MAX_CHARS = 50_000  # a fold's diff shown in a comment or PR body; longer ones are left to the branch
LOGINS_PER_COMMENT = 10  # people one comment may make the bot look up (/ask, @-delegation)


def followup_title_problem(title: str) -> str | None:
    """Why a follow-up cannot become an issue with this title, or None when it can."""
    if len(" ".join(title.split())) > ISSUE_TITLE_MAX_CHARS:
        return f"the follow-up title is longer than GitHub's {ISSUE_TITLE_MAX_CHARS}-character limit for issue titles"
    return None


def document_problem(text: str, question_count: int | None = None) -> str | None:
    """Why a threat-model document is too large to track, or None."""
    size = len(text.encode("utf-8"))
    if size > DOCUMENT_MAX_BYTES:
        return f"the document is {size // 1024} KB, over the bot's limit of {DOCUMENT_MAX_BYTES // 1024} KB"
    if question_count is not None and question_count > DOCUMENT_MAX_QUESTIONS:
        return f"the document has {question_count} questions, over the bot's limit of {DOCUMENT_MAX_QUESTIONS}"
    return None
