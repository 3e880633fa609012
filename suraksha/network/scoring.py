"""Scoring a cluster: how much it looks like a racket, and why, factor by factor.

Pure: the facts come from the database (``services.cluster_facts``) or from a benchmark's arrays.
The score adds up, each factor capped so that no one kind of evidence decides alone:

- payment handles in common (a handle two or more of its accounts carry, and at least ``handle_share``
  of them: a family's UPI id inside a large community is not the community's): 2 points each, up
  to 10;
- accounts with a banked match (a file in a block bank): up to 10 points, by their share;
- accounts with a confirmed violation (a reviewer's decision other than benign, approved where it
  needed a second person): up to 10 points, by their share;
- accounts with a sale-solicitation rule hit: up to 5 points, by their share;
- suspended accounts: up to 3 points, by their share;
- young accounts (created, or first seen, within ``young_days`` of the run): up to 2 points, by share.

A cluster is a suspected racket when it has at least ``min_accounts`` accounts and ``racket_score``
points (settings ``network_racket_min_accounts``, ``network_racket_score``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ClusterFacts:
    accounts: int
    payment_handles: int = 0
    """Payment handles carried by two or more of the cluster's accounts."""
    banked: int = 0
    """Accounts with a banked match."""
    confirmed: int = 0
    """Accounts with a confirmed violation."""
    sale_hits: int = 0
    """Accounts with a sale-solicitation rule hit."""
    suspended: int = 0
    young: int = 0
    """Accounts created (or first seen) recently."""
    median_age_days: float | None = None


@dataclass(frozen=True)
class Factor:
    name: str
    points: float
    detail: str


@dataclass(frozen=True)
class Explanation:
    score: float
    suspected: bool
    factors: tuple[Factor, ...]
    facts: ClusterFacts

    def as_dict(self) -> dict[str, object]:
        return {
            "score": round(self.score, 2),
            "suspected": self.suspected,
            "factors": [asdict(f) for f in self.factors],
            "facts": asdict(self.facts),
        }


@dataclass(frozen=True)
class RacketThresholds:
    min_accounts: int = 5
    racket_score: float = 4.0
    young_days: int = 90
    handle_share: float = 0.05
    """A payment handle is in common when at least this share of the cluster's accounts carry it."""


def score(facts: ClusterFacts, thresholds: RacketThresholds) -> Explanation:
    """The cluster's score and its factors (module docstring)."""
    n = max(facts.accounts, 1)
    factors: list[Factor] = []

    def share(name: str, count: int, cap: float, what: str) -> None:
        if count:
            factors.append(Factor(name, cap * count / n, f"{count} of {facts.accounts} accounts {what}"))

    if facts.payment_handles:
        factors.append(
            Factor(
                "payment_handles",
                min(2.0 * facts.payment_handles, 10.0),
                f"{facts.payment_handles} payment handle(s) in common",
            )
        )
    share("banked_matches", facts.banked, 10.0, "posted a file in a block bank")
    share("confirmed_violations", facts.confirmed, 10.0, "have a confirmed violation")
    share("sale_solicitation", facts.sale_hits, 5.0, "hit a sale-solicitation rule")
    share("suspensions", facts.suspended, 3.0, "are suspended")
    detail = "are young"
    if facts.median_age_days is not None:
        detail += f" (median age {facts.median_age_days:.0f} days)"
    share("young_accounts", facts.young, 2.0, detail)
    total = sum(f.points for f in factors)
    suspected = facts.accounts >= thresholds.min_accounts and total >= thresholds.racket_score
    return Explanation(total, suspected, tuple(factors), facts)
