"""Primary rate limits: one hourly bucket per caller and resource, counted down per request."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

WINDOW = 3600


@dataclass
class Bucket:
    limit: int
    used: int = 0
    reset: int = field(default_factory=lambda: int(time.time()) + WINDOW)

    def roll(self) -> None:
        if time.time() >= self.reset:
            self.used, self.reset = 0, int(time.time()) + WINDOW

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


@dataclass
class RateLimits:
    limit: int = 5000  # GitHub's floor for an installation
    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)

    def bucket(self, who: str, resource: str) -> Bucket:
        bucket = self.buckets.setdefault((who, resource), Bucket(self.limit))
        bucket.roll()
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
