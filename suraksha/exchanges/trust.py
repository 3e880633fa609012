"""Exchange trust at decision time: which matched bank entries only exchanges of "review" trust vouch
for (``suraksha.enforcement.policy``: such a match never acts by itself). Light on purpose: the
detection pipeline imports it, not the exchanges' clients."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.banks.models import BankEntry, EntrySource
from suraksha.exchanges.models import Exchange, ExchangeEntry, Trust


def review_only_entries(session: Session, entry_ids: Sequence[int]) -> set[int]:
    """The bank entries among ``entry_ids`` whose matches go to review because of exchange trust: an
    entry an exchange put in the bank acts automatically only while an exchange of ``auto_action``
    trust holds it (a live record). Entries a person or a file import added are not affected."""
    ids = sorted(set(entry_ids))
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        from_exchanges = set(
            session.scalars(
                select(BankEntry.id).where(BankEntry.id.in_(chunk), BankEntry.source == EntrySource.EXCHANGE)
            )
        )
        if not from_exchanges:
            continue
        trusted = set(
            session.scalars(
                select(ExchangeEntry.bank_entry_id)
                .join(Exchange, Exchange.id == ExchangeEntry.exchange_id)
                .where(
                    ExchangeEntry.bank_entry_id.in_(sorted(from_exchanges)),
                    ExchangeEntry.removed.is_(False),
                    Exchange.trust == Trust.AUTO_ACTION,
                )
            )
        )
        found |= from_exchanges - trusted
    return found
