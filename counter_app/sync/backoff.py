"""Exponential backoff with full jitter (delay drawn uniformly from [0, min(cap, base·2^n)]).

Full jitter spreads the retries of many windows that lost the network at the same moment, so the
platform is not hit by all of them at once when it comes back. A ``Retry-After`` from the server
is a floor: we never come back sooner than it asked.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class RetryPolicy:
    base: float = 2.0
    cap: float = 300.0
    max_retry_after: float = 3600.0  # a server asking for more than an hour is not taken literally
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def ceiling(self, attempt: int) -> float:
        """The upper bound of the delay after ``attempt`` failures (attempt ≥ 1)."""
        return min(self.cap, self.base * (2 ** max(0, min(attempt - 1, 30))))

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        d = self.rng.uniform(0.0, self.ceiling(attempt))
        if retry_after is not None:
            d = max(d, min(retry_after, self.max_retry_after))
        return d
