"""Markdown that is safe to post on GitHub: one-line text and mention rules (pure).

Shared by the digest and the thread notice so both follow the same rule: only maintainers
are @-mentioned, each at most once per comment; everyone else is named in backticks, and
copied text can never ping anyone.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Sequence

TITLE_LIMIT = 80
LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")


def inline_text(text: str, limit: int = TITLE_LIMIT) -> str:
    """Free text made safe for one line of Markdown, a table cell or a link label."""
    single = " ".join(text.split())
    if len(single) > limit:
        single = single[: limit - 1].rstrip() + "…"
    single = single.replace("\\", "\\\\").replace("|", "\\|").replace("[", "\\[").replace("]", "\\]")
    single = single.replace("<", "&lt;").replace("`", "'")
    # A zero-width space after `@` stops GitHub from turning copied text into a mention.
    return single.replace("@", "@&#8203;")


def bounded(text: str, limit: int) -> str:
    """Text cut to `limit` characters (an ellipsis marks the cut): every title, excerpt and
    message the bot writes goes through a bound, whatever a person wrote."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def marker_text(text: str, limit: int = 200) -> str:
    """Text safe inside (or next to) a hidden `<!-- ... -->` marker: one line, bounded, and
    unable to open or close an HTML comment, so a title cannot end the marker early and
    render what follows (an @-mention, an image) or hide the bot's own text."""
    single = bounded(" ".join(text.split()), limit)
    # No `<!--`, no `-->`, and no @-mention even where a renderer shows the comment.
    return single.replace("<", "&lt;").replace(">", "&gt;").replace("@", "@&#8203;")


NOTES_PER_COMMENT = 10  # notes quoted in one notice: a reply of a thousand odd lines stays readable


def quoted_notes(notes: Sequence[str], limit: int = 200) -> list[str]:
    """Notes as `> ` lines: at most NOTES_PER_COMMENT, each bounded, then how many were left out,
    so a notice never outgrows GitHub's comment limit whatever a reply held."""
    lines = [f"> {inline_text(note, limit)}" for note in notes[:NOTES_PER_COMMENT]]
    if len(notes) > NOTES_PER_COMMENT:
        lines.append(f"> … and {len(notes) - NOTES_PER_COMMENT} more notes")
    return lines


def defuse_comments(text: str) -> str:
    """Text placed next to a hidden marker, with `<!--` and `-->` made inert: a value quoted
    back cannot hide the bot's words or close its marker."""
    return text.replace("<!--", "&lt;!--").replace("-->", "--&gt;")


def clean_login(login: str) -> str:
    return login.strip().lstrip("@")


class Mentions:
    """Hands out @-mentions: maintainers only, each at most once per comment."""

    def __init__(self, maintainers: Collection[str]) -> None:
        self._maintainers = {clean_login(login).lower() for login in maintainers}
        self._done: set[str] = set()
        self.mentioned: list[str] = []

    def ask(self, login: str) -> str:
        """Someone the comment asks for something: mentioned if a maintainer not yet mentioned."""
        login = clean_login(login)
        key = login.lower()
        if LOGIN.fullmatch(login) and key in self._maintainers and key not in self._done:
            self._done.add(key)
            self.mentioned.append(login)
            return f"@{login}"
        return self.name(login)

    @staticmethod
    def name(login: str) -> str:
        """Someone merely named: never a mention."""
        login = clean_login(login)
        return f"`{login}`" if LOGIN.fullmatch(login) else inline_text(login, 40)
