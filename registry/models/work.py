"""The work aggregate: a registration with its authors, files, versions and matches."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.extensions import db
from registry.models.types import UTCDateTime
from registry.models.user import User, utcnow


def _enum(cls: type[enum.Enum], length: int = 32) -> Enum:
    return Enum(cls, native_enum=False, length=length,
                values_callable=lambda e: [m.value for m in e])


class WorkType(enum.StrEnum):
    MUSICAL_WORK = "musical_work"
    SOUND_RECORDING = "sound_recording"
    PHOTOGRAPH = "photograph"
    ARTWORK = "artwork"
    AUDIOVISUAL = "audiovisual"
    OTHER = "other"


class WorkStatus(enum.StrEnum):
    PROCESSING = "processing"
    REGISTERED = "registered"
    CONFLICT = "conflict"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class AIUse(enum.StrEnum):
    NONE = "none"
    AI_ASSISTED = "ai_assisted"
    AI_GENERATED = "ai_generated"

    @property
    def iptc_source_type(self) -> str:
        """The IPTC digital source type this declaration corresponds to."""
        return {
            AIUse.NONE: "digitalCapture",
            AIUse.AI_ASSISTED: "compositeWithTrainedAlgorithmicMedia",
            AIUse.AI_GENERATED: "trainedAlgorithmicMedia",
        }[self]


class RegistrantCapacity(enum.StrEnum):
    AUTHOR = "author"
    RIGHTS_HOLDER = "rights_holder"


class Work(db.Model):
    __tablename__ = "works"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_number: Mapped[str] = mapped_column(String(32), unique=True)
    registrant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[WorkStatus] = mapped_column(_enum(WorkStatus), default=WorkStatus.PROCESSING,
                                               index=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                    index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    title: Mapped[str] = mapped_column(String(300))
    original_title: Mapped[str | None] = mapped_column(String(300))
    work_type: Mapped[WorkType] = mapped_column(_enum(WorkType), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(8), index=True)

    registrant_capacity: Mapped[RegistrantCapacity] = mapped_column(
        _enum(RegistrantCapacity), default=RegistrantCapacity.AUTHOR)
    rights_basis: Mapped[str | None] = mapped_column(Text)

    creation_date: Mapped[date | None] = mapped_column(Date)
    creation_year: Mapped[int | None] = mapped_column(Integer)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_on: Mapped[date | None] = mapped_column(Date)
    publication_place: Mapped[str | None] = mapped_column(String(300))
    publication_url: Mapped[str | None] = mapped_column(String(1000))

    ai_use: Mapped[AIUse] = mapped_column(_enum(AIUse), default=AIUse.NONE)
    ai_tools: Mapped[str | None] = mapped_column(String(500))
    ai_parts: Mapped[str | None] = mapped_column(String(500))
    human_contribution: Mapped[str | None] = mapped_column(Text)

    licence: Mapped[str] = mapped_column(String(32), default="all-rights-reserved")
    ai_training_opt_out: Mapped[bool] = mapped_column(Boolean, default=True)
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility), default=Visibility.PUBLIC)
    allow_thumbnail: Mapped[bool] = mapped_column(Boolean, default=True)
    publish_original: Mapped[bool] = mapped_column(Boolean, default=False)

    media_kind: Mapped[str] = mapped_column(String(8))  # a registry.kinds name
    media_format: Mapped[str | None] = mapped_column(String(16))
    duration_s: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    fingerprint_digest: Mapped[str | None] = mapped_column(String(64))
    iscc: Mapped[str | None] = mapped_column(String(80), index=True)
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    #: Key frames of a video: [{"t": seconds, "key": storage key of a JPEG}, ...]
    key_frames: Mapped[list | None] = mapped_column(JSON)
    ledger_index: Mapped[int | None] = mapped_column(Integer)

    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    registrant: Mapped[User] = relationship(foreign_keys=[registrant_id])
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    authors: Mapped[list[WorkAuthor]] = relationship(
        back_populates="work", cascade="all, delete-orphan", order_by="WorkAuthor.position")
    files: Mapped[list[WorkFile]] = relationship(
        back_populates="work", cascade="all, delete-orphan", order_by="WorkFile.id")
    versions: Mapped[list[WorkVersion]] = relationship(
        back_populates="work", cascade="all, delete-orphan", order_by="WorkVersion.version")
    matches: Mapped[list[WorkMatch]] = relationship(
        back_populates="work", cascade="all, delete-orphan", foreign_keys="WorkMatch.work_id",
        order_by="WorkMatch.score.desc()")

    @property
    def main_file(self) -> WorkFile:
        return next(f for f in self.files if f.role == "main")

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC

    def __repr__(self) -> str:
        return f"<Work {self.registration_number}>"


class WorkAuthor(db.Model):
    __tablename__ = "work_authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    share: Mapped[Decimal] = mapped_column(Numeric(5, 2))

    work: Mapped[Work] = relationship(back_populates="authors")


class WorkFile(db.Model):
    __tablename__ = "work_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # "main" or "supporting"
    original_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    storage_key: Mapped[str] = mapped_column(String(200))

    work: Mapped[Work] = relationship(back_populates="files")


class WorkVersion(db.Model):
    """One state of the metadata; version 1 is what was registered."""

    __tablename__ = "work_versions"
    __table_args__ = (UniqueConstraint("work_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    metadata_json: Mapped[dict] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(300))

    work: Mapped[Work] = relationship(back_populates="versions")


class WorkMatch(db.Model):
    """An earlier registered work that this work's fingerprint matched."""

    __tablename__ = "work_matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    other_work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"),
                                               index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "exact", "audio" or "image"
    score: Mapped[float] = mapped_column(Float)
    is_conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    work: Mapped[Work] = relationship(back_populates="matches", foreign_keys=[work_id])
    other_work: Mapped[Work] = relationship(foreign_keys=[other_work_id])


class RegistrationCounter(db.Model):
    """The last number issued per country and year: numbers are never reused."""

    __tablename__ = "registration_counters"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class TransferStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class Transfer(db.Model):
    """Ownership moves to another account only when the recipient accepts."""

    __tablename__ = "work_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The offer goes to an address (the owner cannot probe which addresses have
    # accounts); the account is filled in once a confirmed one holds the address.
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_email: Mapped[str | None] = mapped_column(String(254), index=True)
    status: Mapped[TransferStatus] = mapped_column(_enum(TransferStatus),
                                                   default=TransferStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    work: Mapped[Work] = relationship()
    from_user: Mapped[User] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])
