"""The retry schedule of Standard Webhooks, with jitter, scaled for tests."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h; then the delivery is dead.
STANDARD_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)


@dataclass(frozen=True)
class RetryPolicy:
    schedule: tuple[float, ...] = STANDARD_SCHEDULE
    scale: float = 1.0
    jitter: float = 0.1  # ± fraction of each delay

    @property
    def max_attempts(self) -> int:
        """The first try plus one per step of the schedule."""
        return len(self.schedule) + 1

    @property
    def longest(self) -> float:
        """The last step of the schedule, in seconds: no wait is ever longer."""
        return float(self.schedule[-1]) if self.schedule else 0.0

    def bounded(self, seconds: float | None) -> float:
        """A wait asked for from outside (Retry-After, a flood limit), made safe: at most
        the last step of the schedule; nothing, when absent, negative or not a number."""
        if seconds is None or not math.isfinite(seconds) or seconds <= 0:
            return 0.0
        return min(float(seconds), self.longest)

    def delay(
        self, attempts: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float | None:
        """Seconds to wait after `attempts` failed tries, or None when it is time to give up.
        A longer Retry-After from the receiver wins, up to the last step of the schedule."""
        if attempts >= self.max_attempts:
            return None
        base = self.schedule[attempts - 1] * self.scale
        spread = base * self.jitter
        delay = base + (rng or random).uniform(-spread, spread)
        if retry_after is not None:
            delay = max(delay, self.bounded(retry_after) * min(self.scale, 1.0))
        return max(0.0, delay)
