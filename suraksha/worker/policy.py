"""How long leases last and how failures are retried: one frozen value, built from settings.

Backoff is exponential with jitter ("equal jitter": half the delay fixed, half random), so jobs that
failed together (a webhook receiver that was down) do not all come back in the same second.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from suraksha.errors import InvalidInput
from suraksha.settings import Settings


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    """Used for jobs enqueued without their own ``max_attempts``."""
    backoff_base_s: float = 5.0
    backoff_max_s: float = 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise InvalidInput(f"max_attempts {self.max_attempts} must be at least 1")
        if self.backoff_base_s < 0 or self.backoff_max_s <= 0:
            raise InvalidInput(
                f"backoff base {self.backoff_base_s} s must be >= 0 and max {self.backoff_max_s} s > 0"
            )

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """Wait before the next attempt, after ``attempts`` attempts have failed (1 = the first)."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** max(0, min(attempts - 1, 62)))
        jitter = (rng or random).uniform(0.0, ceiling / 2)
        return timedelta(seconds=ceiling / 2 + jitter)


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker loop needs to know; ``WorkerConfig.from_settings(settings)`` in production."""

    lease_s: float = 60.0
    retry: RetryPolicy = RetryPolicy()
    poll_interval_s: float = 2.0
    """Longest idle sleep; an idle worker starts at ``idle_sleep_min_s`` and doubles up to this."""
    idle_sleep_min_s: float = 0.05
    batch_size: int = 10
    keep_done_s: float | None = 7 * 24 * 3600.0
    """Finished jobs older than this are purged (None: kept). Dead jobs are never purged."""
    maintenance_every_s: float = 600.0

    def __post_init__(self) -> None:
        if self.lease_s <= 0 or self.poll_interval_s <= 0 or self.idle_sleep_min_s <= 0:
            raise InvalidInput(
                f"lease ({self.lease_s} s), poll interval ({self.poll_interval_s} s) and minimum idle "
                f"sleep ({self.idle_sleep_min_s} s) must all be positive"
            )
        if not 1 <= self.batch_size <= 1000:
            raise InvalidInput(f"batch size {self.batch_size} must be between 1 and 1000")

    @property
    def recover_every_s(self) -> float:
        """How often a worker looks for expired leases when it leases (each look is a query in the
        write transaction): a dead worker's jobs wait at most this long after their lease ran out."""
        return min(1.0, self.lease_s / 4)

    @property
    def heartbeat_s(self) -> float:
        """A third of the lease: two heartbeats can be missed before another worker takes over."""
        return self.lease_s / 3

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerConfig:
        return cls(
            lease_s=settings.job_lease_s,
            retry=RetryPolicy(
                max_attempts=settings.job_max_attempts,
                backoff_base_s=settings.job_backoff_base_s,
                backoff_max_s=settings.job_backoff_max_s,
            ),
            poll_interval_s=settings.worker_poll_interval_s,
            idle_sleep_min_s=min(0.05, settings.worker_poll_interval_s),
            batch_size=settings.worker_batch_size,
            keep_done_s=settings.job_keep_done_days * 86400.0 if settings.job_keep_done_days > 0 else None,
        )
