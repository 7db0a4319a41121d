"""The bot's one comment in a review thread, edited as the thread moves on (pure).

It says what the bot understood, the change it proposes, who is still awaited and how to
accept. A hidden marker names the question, so the bot finds and edits its own comment
instead of posting a second copy.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from bot.core.markdown import Mentions, inline_text, marker_text, quoted_notes
from bot.core.planner import HumanItem, Promotion
from bot.core.reader import HELP_TEXT
from bot.core.records import ProposalState, Record

MARKER_PREFIX = "<!-- threat-model-bot:notice"
_MARKER = re.compile(r"<!-- threat-model-bot:notice (?P<question>[^ ]+) -->")
EXCERPT_LIMIT = 160


def notice_marker(question_id: str) -> str:
    return f"{MARKER_PREFIX} {marker_text(question_id, 40).replace(' ', '_')} -->"


def parse_notice_marker(body: str) -> str | None:
    """The question a notice is about, or None if the comment is not one of ours."""
    match = _MARKER.search(body or "")
    return match.group("question") if match else None


def render_notice(
    record: Record,
    *,
    promotions: Sequence[Promotion] = (),
    for_humans: Sequence[HumanItem] = (),
    notes: Sequence[str] = (),
    maintainers: Collection[str] = (),
    dry_run: bool = False,
) -> str:
    mentions = Mentions(maintainers)
    lines = [notice_marker(record.id), f"**{record.id} — {inline_text(record.title or record.question)}** · status: **{record.status.value}**", ""]
    lines += _understood(record, mentions)
    lines += _proposed_change(record, promotions, for_humans)
    lines += _awaited(record, mentions)
    lines += quoted_notes(notes, 200)
    lines += ["", _how_to_accept(record, promotions)]
    if dry_run:
        lines.append("\n_Dry run: nothing is written to the repository._")
    return "\n".join(lines).rstrip() + "\n"


def render_help(question_id: str | None) -> str:
    marker = notice_marker(question_id) if question_id else f"{MARKER_PREFIX} help -->"
    return f"{marker}\n```\n{HELP_TEXT}\n```\n"


def _understood(record: Record, mentions: Mentions) -> list[str]:
    if not record.answers:
        return ["No answer yet."]
    lines = ["What I understood:"]
    for answer in record.answers:
        weight = "binding" if answer.binding else "input, not binding"
        excerpt = inline_text(answer.excerpt, EXCERPT_LIMIT)
        link = f" ([reply]({answer.url}))" if answer.url else ""
        said = f" — “{excerpt}”" if excerpt else ""  # a bare `/confirm` has nothing to quote
        lines.append(f"- {mentions.name(answer.author)} ({answer.association.lower()}): **{answer.stance}**{said} · {weight}{link}")
    return lines


def _proposed_change(record: Record, promotions: Sequence[Promotion], for_humans: Sequence[HumanItem]) -> list[str]:
    lines: list[str] = []
    pending = [proposal for proposal in record.proposals if proposal.state is ProposalState.PROPOSED]
    if pending:
        lines += ["", "Proposals waiting for a maintainer:"]
        lines += [f"- `{proposal.id}`: {inline_text(proposal.summary, 200)}" for proposal in pending]
    if promotions:
        lines += ["", "The change folded into the document on `/accept`:", "```diff"]
        for promotion in promotions:
            lines += [f"-{promotion.old_tag}", f"+{promotion.new_tag}"]
        lines.append("```")
    if for_humans:
        lines += ["", "Left for a person (the bot does not rewrite these):"]
        lines += [f"- line {item.line}: {inline_text(item.message, 200)}" for item in for_humans]
    return lines


def _awaited(record: Record, mentions: Mentions) -> list[str]:
    if not record.awaiting:
        return []
    return ["", "Still awaited: " + ", ".join(mentions.ask(login) for login in record.awaiting)]


def _how_to_accept(record: Record, promotions: Sequence[Promotion]) -> str:
    if record.status.value == "folded":
        return "Folded into the document. Nothing more to do here."
    latest = record.answers[-1] if record.answers else None
    if latest is not None and latest.stance == "unclear":
        # Never a guessed reading: the maintainer says which one they meant.
        return (
            f"I could not tell whether the last reply confirms or corrects {record.id}. A maintainer answers with"
            f" `/confirm {record.id}` or `/correct {record.id} <text>`; `/questions help` lists every command."
        )
    if latest is not None and latest.stance == "correct" and not any(character.isalnum() for character in latest.excerpt):
        return (
            f"The last reply says {record.id}'s answer is wrong but not what is right: reply"
            f" `/correct {record.id} <text>` with the right answer."
        )
    if promotions or any(proposal.state is ProposalState.PROPOSED for proposal in record.proposals):
        return "A maintainer accepts with `/accept` (or a 👍 on this comment), or discards with `/reject`. `/questions help` lists every command."
    return "Reply `/confirm`, `/correct <text>` or `/strike`; `/questions help` lists every command."
