"""Named collections: an owner groups works into an album, a series or a photo set."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.extensions import db
from registry.models.types import UTCDateTime
from registry.models.user import User, utcnow
from registry.models.work import Work, _enum


class CollectionKind(enum.StrEnum):
    ALBUM = "album"
    SERIES = "series"
    PHOTO_SET = "photo_set"
    OTHER = "other"


class Collection(db.Model):
    __tablename__ = "collections"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                          index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CollectionKind] = mapped_column(_enum(CollectionKind, 16),
                                                 default=CollectionKind.ALBUM)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User] = relationship()
    items: Mapped[list[CollectionItem]] = relationship(
        back_populates="collection", cascade="all, delete-orphan",
        order_by="CollectionItem.position")

    def __repr__(self) -> str:
        return f"<Collection {self.id} {self.title!r}>"


class CollectionItem(db.Model):
    """One work in a collection, at a position (track number, order in the series)."""

    __tablename__ = "collection_items"
    __table_args__ = (UniqueConstraint("collection_id", "work_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), index=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    collection: Mapped[Collection] = relationship(back_populates="items")
    work: Mapped[Work] = relationship()
