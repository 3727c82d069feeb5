"""``IntArray``: keys passed to PostgreSQL as one binary integer[] parameter (the
index searches' ``key = ANY(%s)``), the same rows as a Python list gives."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from registry.core.sql import IntArray, driver_rows


def test_values_outside_32_bits_are_refused():
    with pytest.raises(ValueError):
        IntArray([2**31])
    with pytest.raises(ValueError):
        IntArray([-(2**31) - 1])
    assert IntArray([2**31 - 1, -(2**31)]).values.tolist() == [2**31 - 1, -(2**31)]


def test_the_binary_form_is_postgresqls_array_format():
    data = IntArray([5, -7]).binary()
    # one dimension, no nulls, int4 elements, 2 of them from index 1; then (4, value) each
    assert data == bytes.fromhex("00000001 00000000 00000017 00000002 00000001"
                                 "00000004 00000005 00000004 fffffff9")  # fmt: skip
    assert IntArray([]).binary() == bytes.fromhex("00000000 00000000 00000017")


def test_postgresql_reads_the_array_as_a_list(core_engine: Engine):
    if core_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (set DATABASE_URL)")
    keys = np.random.default_rng(0).integers(-(2**31), 2**31, 5000)
    with core_engine.connect() as conn:
        got = driver_rows(conn, "SELECT unnest(%s)", [IntArray(keys)])
        again = driver_rows(conn, "SELECT count(*) FROM unnest(%s) AS k WHERE k = ANY(%s)",
                            [IntArray(keys), IntArray(keys[::2])])  # fmt: skip
        empty = driver_rows(conn, "SELECT cardinality(%s)", [IntArray([])])
    assert [r[0] for r in got] == keys.tolist()
    assert again[0][0] == sum(1 for k in keys.tolist() if k in set(keys[::2].tolist()))
    assert empty[0][0] == 0
