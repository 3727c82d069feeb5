"""Loading a row the caller knows exists (a job's work, a queued job)."""

from __future__ import annotations

from typing import Any, TypeVar

from registry.core.errors import NotFound
from registry.extensions import db

T = TypeVar("T")


def must_get(model: type[T], ident: Any) -> T:
    """``db.session.get`` for a row that must be there: a missing one is a NotFound
    naming it, not an ``AttributeError`` on ``None`` further down."""
    found = db.session.get(model, ident)
    if found is None:
        raise NotFound.because("row_missing", {"row": f"{model.__name__} {ident}"})
    return found
