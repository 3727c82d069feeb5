"""Signed receipts given at submission: the registry's promise to put an
accepted registration in the ledger by a deadline."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from registry.extensions import db
from registry.models.types import UTCDateTime
from registry.models.work import Work


class Receipt(db.Model):
    """One receipt per registration, kept byte for byte as it was issued."""

    __tablename__ = "receipts"

    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"),
                                         primary_key=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    document: Mapped[str] = mapped_column(Text)  # the signed tamga-receipt/1 JSON

    work: Mapped[Work] = relationship(backref=backref("receipt", uselist=False,
                                                      cascade="all, delete-orphan"))

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.document)
