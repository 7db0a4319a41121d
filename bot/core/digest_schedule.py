"""Weeks and times for the digest: the ISO week of a moment, and when a week's digest is due.

Pure: the moment always comes from the caller.
"""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.settings import WEEKDAYS


def iso_week(now: datetime) -> str:
    """`2026-11-26T10:00Z` -> "2026-W48" (ISO week-numbering year, in UTC)."""
    year, week, _ = as_utc(now).isocalendar()
    return f"{year}-W{week:02d}"


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)  # naive times are taken as UTC
    return moment.astimezone(UTC)


def digest_due(day: str, at: str, timezone_name: str, now: datetime) -> str | None:
    """This ISO week's id once its configured day and time have passed in its timezone, else None.

    The week is the one of the local date, so a digest set for Monday 09:00 in Tokyo belongs
    to the Tokyo week even while it is still Sunday in UTC.
    """
    local = as_utc(now).astimezone(ZoneInfo(timezone_name))
    hours, minutes = (int(part) for part in at.split(":"))
    monday = local.date() - timedelta(days=local.weekday())
    scheduled = datetime.combine(monday + timedelta(days=WEEKDAYS.index(day.lower())), time(hours, minutes), tzinfo=local.tzinfo)
    if local < scheduled:
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"
