"""Temporary re-exports while the service's digest modules move (wt-house); removed once they
import from the split modules directly. New code imports from those modules."""
from bot.core.digest_publication import PostedDigest, digest_for_week, posted_digests, previous_digest
from bot.core.digest_review import maintainer_logins
from bot.core.digest_schedule import digest_due, iso_week
from bot.core.digest_wording import render_digest
from bot.core.family_digest_wording import FamilyRole, render_family_digest

__all__ = [
    "FamilyRole",
    "PostedDigest",
    "digest_for_week",
    "digest_due",
    "iso_week",
    "maintainer_logins",
    "posted_digests",
    "previous_digest",
    "render_digest",
    "render_family_digest",
]
