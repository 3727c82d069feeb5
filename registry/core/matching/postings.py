"""Packed posting rows, shared by every index: one row per key, its ``postings``
column a byte string of fixed-size numpy entries that each name a work (the
entry itself, or its ``work`` field)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.engine import Connection


def works_of(entries: np.ndarray) -> np.ndarray:
    """The work id of each entry: a structured entry's ``work`` field, or the entry."""
    return entries["work"] if entries.dtype.names else entries


def drop_work(conn: Connection, table: Table, keys: Sequence[int], work_id: int,
              dtype: np.dtype, *, batch: int, saturated: int | None = None) -> None:
    """Remove ``work_id``'s entries from the rows of ``keys``; a row left empty is
    deleted. A table with a ``works`` count (``saturated`` given) has it lowered, and
    a row counting more than ``saturated`` works is left as it is: such a key is
    ignored by searches until the index is rebuilt."""
    counted = saturated is not None
    columns = [table.c.key, table.c.postings] + ([table.c.works] if counted else [])
    updates, deletes = [], []
    for start in range(0, len(keys), batch):
        rows = conn.execute(select(*columns).where(table.c.key.in_(keys[start:start + batch])))
        for row in rows:
            key, blob = row[0], row[1]
            if counted and row[2] > saturated:
                continue
            entries = np.frombuffer(blob, dtype=dtype)
            kept = entries[works_of(entries) != work_id]
            if not kept.size:
                deletes.append({"k": key})
            elif counted:
                updates.append({"k": key, "p": kept.tobytes(), "w": row[2] - 1})
            else:
                updates.append({"k": key, "p": kept.tobytes()})
    values: dict[str, Any] = {"postings": bindparam("p")}
    if counted:
        values["works"] = bindparam("w")
    if updates:
        conn.execute(update(table).where(table.c.key == bindparam("k")).values(**values),
                     updates)  # fmt: skip
    if deletes:
        conn.execute(delete(table).where(table.c.key == bindparam("k")), deletes)
