"""Co-author invitations: a named author is asked to confirm their role and share.

An invitation keeps what the co-author is asked to confirm (name, role and share as
the registrant listed them) and the e-mail it went to. Whoever holds a confirmed
account with that e-mail answers it; the answer is a ledger entry.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.extensions import db
from registry.models.types import UTCDateTime
from registry.models.user import User, utcnow
from registry.models.work import Work, _enum


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # the owner invited someone else, or changed the author


class CoAuthorInvitation(db.Model):
    __tablename__ = "coauthor_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    # The account found for the e-mail when invited, or the one that answered.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    share: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    status: Mapped[InvitationStatus] = mapped_column(
        _enum(InvitationStatus, 16), default=InvitationStatus.PENDING, index=True)
    locale: Mapped[str] = mapped_column(String(8), default="kk")
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)  # why the co-author declined
    ledger_index: Mapped[int | None] = mapped_column(Integer)

    work: Mapped[Work] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])

    @property
    def is_pending(self) -> bool:
        return self.status == InvitationStatus.PENDING

    def __repr__(self) -> str:
        return f"<CoAuthorInvitation {self.id} {self.status.value}>"
