"""What a creator adds for the state register application beyond the registration itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.extensions import db
from registry.models.types import UTCDateTime
from registry.models.user import utcnow
from registry.models.work import Work


class StateFiling(db.Model):
    """One per work: the applicant's and authors' particulars the form asks for.

    ``applicant`` holds the applicant's citizenship, address and phone; ``authors``
    one object per author position (IIN, citizenship, address, pseudonym);
    ``derivative`` whether the work derives from another and which. These are
    personal data: they never go into the ledger, only the digest of the
    prepared application does.
    """

    __tablename__ = "state_filings"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"),
                                         unique=True)
    applicant: Mapped[dict] = mapped_column(JSON, default=dict)
    authors: Mapped[list] = mapped_column(JSON, default=list)
    derivative: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    prepared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    prepared_digest: Mapped[str | None] = mapped_column(String(64))

    work: Mapped[Work] = relationship()
