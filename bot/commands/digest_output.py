"""Where a digest command's result goes: printed, or published once on GitHub and reported.

Shared by `digest` and `digest --family`, so both follow the same publish decision
(`bot.core.digest_publication`) and say what happened in the same words.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.core.digest_publication import DigestLook
from bot.core.digest_wording import Digest
from bot.core.settings import CONFIG_PATH, RepoSettings

if TYPE_CHECKING:
    from bot.github import batch


def wants_posting(args: argparse.Namespace, settings: RepoSettings) -> bool:
    """--post without --dry-run, unless the repository's configuration sets dry_run."""
    posting = bool(args.post and not args.dry_run)
    if posting and settings.dry_run:
        print(f"{CONFIG_PATH} sets dry_run: printing instead of posting", file=sys.stderr)
        return False
    return posting


def print_or_publish(
    gh: batch.Github,
    repository: str,
    number: int,
    look: DigestLook,
    render: Callable[[DigestLook], Digest],
    *,
    posting: bool,
    kind: str = "digest",
) -> int:
    """Render from what `look` found, then print it, or post it unless this week's is there.
    `kind` names the digest in messages ("digest", "family digest")."""
    from bot.github import batch  # PyGithub loads only when a command talks to GitHub
    where = f"{repository}#{number}"
    what = f"{look.week} {kind}"
    if look.this_week is not None:
        note = f"the {what} is already posted on {where} (comment {look.this_week.comment_id})"
        if posting:
            print(f"{note}; nothing to do")
            return 0
        print(note, file=sys.stderr)
    digest = render(look)
    if not posting:
        sys.stdout.write(digest.markdown)
        return 0
    report_outcome(batch.publish_digest(gh, repository, number, digest.markdown, look), what, where)
    return 0


def report_outcome(outcome: batch.PublishOutcome, what: str, where: str) -> None:
    """One line per thing done; `what` is e.g. "2026-W48 digest"."""
    if outcome.posted is not None:
        print(f"posted the {what} on {where} (comment {outcome.posted.comment_id})")
    elif outcome.kept is not None:
        print(f"another run posted the {what} on {where} first (comment {outcome.kept.comment_id}); kept that one")
    if outcome.removed_duplicates:
        print("removed duplicate digests: " + ", ".join(str(comment_id) for comment_id in outcome.removed_duplicates))
    if outcome.minimized:
        print("minimized earlier digests: " + ", ".join(str(comment_id) for comment_id in outcome.minimized))
