"""Kill switches: flipped in the database, without a deploy, with who and why."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, UTCDateTime, utcnow


class KillSwitch(StrEnum):
    PAUSE_AUTOMATED_ENFORCEMENT = "pause_automated_enforcement"
    """Automated decisions still happen and are recorded; their actions wait for a person."""
    PAUSE_DELIVERY = "pause_delivery"
    """Nothing is sent to the platform; actions queue up and go out when resumed."""
    READ_ONLY = "read_only"
    """The API refuses every write (items, checks that persist, bank changes)."""


class SwitchState(Base):
    __tablename__ = "kill_switches"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
