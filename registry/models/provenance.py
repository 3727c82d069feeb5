"""Provenance of a work's file (C2PA, IPTC/XMP) and its AI-training reservations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from registry.extensions import db
from registry.models.types import UTCDateTime
from registry.models.user import utcnow
from registry.models.work import Work


class WorkProvenance(db.Model):
    """What the registered file declared about itself, read once at registration."""

    __tablename__ = "work_provenance"

    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"),
                                         primary_key=True)
    c2pa_state: Mapped[str] = mapped_column(String(16), default="none")
    c2pa_claim_generator: Mapped[str | None] = mapped_column(String(500))
    c2pa_signer: Mapped[str | None] = mapped_column(String(500))
    c2pa_digital_source_type: Mapped[str | None] = mapped_column(String(200))
    iptc_digital_source_type: Mapped[str | None] = mapped_column(String(200))
    ai_system: Mapped[str | None] = mapped_column(String(500))
    ai_system_version: Mapped[str | None] = mapped_column(String(500))
    ai_prompt: Mapped[str | None] = mapped_column(Text)
    data_mining: Mapped[str | None] = mapped_column(String(200))
    file_ai_claim: Mapped[str | None] = mapped_column(String(16))
    declared_ai_use: Mapped[str] = mapped_column(String(16))
    ai_declaration_mismatch: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    mismatch_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mismatch_reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    work: Mapped[Work] = relationship(backref=backref("provenance", uselist=False,
                                                      cascade="all, delete-orphan"))

    @property
    def says_ai(self) -> bool:
        return self.file_ai_claim in ("ai_generated", "ai_assisted")


class TrainingReservation(db.Model):
    """One change of a work's AI-training reservation, with its ledger entry."""

    __tablename__ = "training_reservations"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    reserved: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ledger_index: Mapped[int | None] = mapped_column(Integer)

    work: Mapped[Work] = relationship()
