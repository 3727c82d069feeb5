"""Disputes: a claim that a registration (or a file out there) copies a registered work.

A dispute has two parties (the respondent may be absent when the copy is outside
Tamga), a timeline of events (each important step is also a ledger entry), the
parties' evidence (private to the parties and moderators) and, in the end, a
public decision with the moderator's reasons.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.extensions import db
from registry.models.types import UTCDateTime
from registry.models.user import User, utcnow
from registry.models.work import Work, _enum


class DisputeKind(enum.StrEnum):
    COPIES_REGISTRATION = "copies_registration"  # a registration here copies my work
    EXTERNAL_COPY = "external_copy"  # a file out there copies my registered work
    REGISTRATION_CONFLICT = "registration_conflict"  # a conflict found at registration
    # A named co-author contests their role or share, or someone says they were left
    # out of the authors; the respondent is the work's owner.
    AUTHORSHIP = "authorship"


class DisputeStatus(enum.StrEnum):
    AWAITING_RESPONSE = "awaiting_response"
    UNDER_REVIEW = "under_review"  # answered, deadline passed, or nobody to answer
    DECIDED = "decided"

    @property
    def is_open(self) -> bool:
        return self != DisputeStatus.DECIDED


class Outcome(enum.StrEnum):
    UPHELD = "upheld"
    REJECTED = "rejected"
    SETTLED = "settled"
    REFERRED_TO_COURT = "referred_to_court"


class Party(enum.StrEnum):
    CLAIMANT = "claimant"
    RESPONDENT = "respondent"
    MODERATOR = "moderator"
    REGISTRY = "registry"


class Dispute(db.Model):
    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    kind: Mapped[DisputeKind] = mapped_column(_enum(DisputeKind))
    status: Mapped[DisputeStatus] = mapped_column(_enum(DisputeStatus), index=True,
                                                  default=DisputeStatus.AWAITING_RESPONSE)
    claimant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    respondent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The registration in question, and the claimant's own earlier one if any.
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), index=True)
    claimant_work_id: Mapped[int | None] = mapped_column(ForeignKey("works.id"), index=True)
    found_url: Mapped[str | None] = mapped_column(String(1000))
    found_platform: Mapped[str | None] = mapped_column(String(120))
    found_on: Mapped[str | None] = mapped_column(String(10))  # ISO date the copy was seen
    comparison: Mapped[dict] = mapped_column(JSON, default=dict)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[Outcome | None] = mapped_column(_enum(Outcome))
    decision_reason: Mapped[str | None] = mapped_column(Text)

    claimant: Mapped[User] = relationship(foreign_keys=[claimant_id])
    respondent: Mapped[User | None] = relationship(foreign_keys=[respondent_id])
    work: Mapped[Work] = relationship(foreign_keys=[work_id])
    claimant_work: Mapped[Work | None] = relationship(foreign_keys=[claimant_work_id])
    events: Mapped[list[DisputeEvent]] = relationship(
        back_populates="dispute", cascade="all, delete-orphan", order_by="DisputeEvent.id")
    evidence: Mapped[list[DisputeEvidence]] = relationship(
        back_populates="dispute", cascade="all, delete-orphan", order_by="DisputeEvidence.id")

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    def party_of(self, user: User | None) -> Party | None:
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        if user.id == self.claimant_id:
            return Party.CLAIMANT
        if user.id == self.respondent_id:
            return Party.RESPONDENT
        return None

    def __repr__(self) -> str:
        return f"<Dispute {self.number}>"


class DisputeEvent(db.Model):
    """One dated step of the timeline; ``ledger_index`` when it was written to the ledger."""

    __tablename__ = "dispute_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[str] = mapped_column(String(32))
    party: Mapped[Party] = mapped_column(_enum(Party, 16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ledger_index: Mapped[int | None] = mapped_column(Integer)

    dispute: Mapped[Dispute] = relationship(back_populates="events")


class DisputeEvidence(db.Model):
    """A statement, a link or a file of one party: seen only by the parties and moderators."""

    __tablename__ = "dispute_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"),
                                            index=True)
    party: Mapped[Party] = mapped_column(_enum(Party, 16))
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # "statement", "link" or "file"
    text: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(1000))
    original_name: Mapped[str | None] = mapped_column(String(300))
    media_type: Mapped[str | None] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str | None] = mapped_column(String(200))
    is_disputed_file: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    dispute: Mapped[Dispute] = relationship(back_populates="evidence")
