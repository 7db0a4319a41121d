"""The local GitHub's sense of time: every moment it stamps or judges comes from one clock.

GitHub writes times as ISO 8601 in whole seconds, so two things done within one second look
simultaneous. Tests that need "visibly later" move the hub's clock on instead of sleeping.
The default clock is real time and can be moved forward; a creator may pass any `Clock`,
such as a `FixedClock` that stands still until it is told to move.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        ...

    def advance(self, seconds: float = 1.0) -> None:
        """Move forward by `seconds` (never back)."""
        ...


def _forward(seconds: float) -> timedelta:
    if seconds < 0:
        raise ValueError(f"the local GitHub's clock only moves forward, not by {seconds} s")
    return timedelta(seconds=seconds)


class RealClock:
    """The wall clock, plus however far it has been moved forward."""

    def __init__(self) -> None:
        self._ahead = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._ahead

    def advance(self, seconds: float = 1.0) -> None:
        self._ahead += _forward(seconds)


class FixedClock:
    """A clock that stands at `start` and moves only when advanced (for exact, repeatable times)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a FixedClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 1.0) -> None:
        self._now += _forward(seconds)


def github_time(moment: datetime) -> str:
    """A moment as GitHub's REST API writes it: UTC, whole seconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
