"""Primary rate limits: one hourly bucket per caller and resource, counted down per request."""
from __future__ import annotations

from dataclasses import dataclass, field

from localhub.clock import Clock, RealClock

WINDOW = 3600


@dataclass
class Bucket:
    limit: int
    reset: int  # epoch seconds, by the hub's clock
    used: int = 0

    def roll(self, now: float) -> None:
        if now >= self.reset:
            self.used, self.reset = 0, int(now) + WINDOW

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


@dataclass
class RateLimits:
    limit: int = 5000  # GitHub's floor for an installation
    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    clock: Clock = field(default_factory=RealClock)

    def bucket(self, who: str, resource: str) -> Bucket:
        now = self.clock.now().timestamp()
        bucket = self.buckets.setdefault((who, resource), Bucket(self.limit, int(now) + WINDOW))
        bucket.roll(now)
        return bucket

    def headers(self, who: str, resource: str) -> dict[str, str]:
        bucket = self.bucket(who, resource)
        return {"X-RateLimit-Limit": str(bucket.limit), "X-RateLimit-Remaining": str(bucket.remaining),
                "X-RateLimit-Used": str(bucket.used), "X-RateLimit-Reset": str(bucket.reset),
                "X-RateLimit-Resource": resource}

    def snapshot(self, who: str, resource: str) -> dict[str, int]:
        bucket = self.bucket(who, resource)
        return {"limit": bucket.limit, "remaining": bucket.remaining, "used": bucket.used, "reset": bucket.reset}

    def set_limit(self, limit: int, used: int = 0) -> None:
        """Change the hourly limit for every bucket (existing and future); `used` resets them."""
        self.limit = limit
        for bucket in self.buckets.values():
            bucket.limit, bucket.used = limit, used
