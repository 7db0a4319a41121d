"""ISO weeks and when a week's digest is due."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from digest_builders import (
    NOW,
)

from bot.core.digest_schedule import digest_due, iso_week


@pytest.mark.parametrize(
    ("moment", "week"),
    [
        (NOW, "2026-W48"),
        (datetime(2027, 1, 1, 12, tzinfo=UTC), "2026-W53"),  # ISO year, not calendar year
        (datetime(2026, 11, 29, 23, 30, tzinfo=timezone(timedelta(hours=-5))), "2026-W49"),  # Monday in UTC
        (datetime(2026, 11, 29, 23, 30), "2026-W48"),  # naive is taken as UTC
    ],
)
def test_iso_week(moment: datetime, week: str) -> None:
    assert iso_week(moment) == week


def test_the_digest_is_due_once_its_local_day_and_time_have_passed() -> None:
    monday_morning = datetime(2026, 11, 23, 8, 59, tzinfo=UTC)
    assert digest_due("monday", "09:00", "UTC", monday_morning) is None
    assert digest_due("monday", "09:00", "UTC", monday_morning.replace(minute=0, hour=9)) == "2026-W48"
    assert digest_due("monday", "09:00", "UTC", datetime(2026, 11, 29, 23, 0, tzinfo=UTC)) == "2026-W48"
    # Sunday 23:00 UTC is already Monday 08:00 in Tokyo: that week, but not yet 09:00 there.
    sunday_late = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert digest_due("monday", "09:00", "Asia/Tokyo", sunday_late) is None
    assert digest_due("monday", "07:30", "Asia/Tokyo", sunday_late) == "2026-W49"
    assert digest_due("friday", "17:00", "UTC", monday_morning) is None
