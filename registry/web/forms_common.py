"""Pieces shared by the forms of several blueprints."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms.fields.choices import SelectChoice


def choices(pairs: Iterable[tuple[str, object]]) -> list[SelectChoice]:
    """Select options from (value, label) pairs; labels may be lazy strings."""
    return [SelectChoice(value, label) for value, label in pairs]
