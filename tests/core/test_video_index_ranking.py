"""The frame index keeps finding a video among many long ones and after a rebuild
(core, in-memory SQLite)."""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from registry.core.matching import video_index
from registry.core.sql import metadata
from registry.core.video import FrameHashes


def _frames(bits: np.ndarray, start: float = 0.0) -> FrameHashes:
    n = len(bits)
    return FrameHashes(np.arange(n, dtype=np.float32) + start, np.zeros(n, dtype=np.uint8),
                       bits, float(n))


def test_a_clip_is_found_when_thirty_hour_long_videos_have_chance_votes_everywhere():
    """Thirty one-hour videos of random frame hashes get chance votes at every second of
    a 20-frame query (the query probes the chunks one bit away), as many distinct times as
    the real source: candidates must be ranked by votes on one time line."""
    rng = np.random.default_rng(5)
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine, tables=video_index.TABLES)
    source = rng.integers(0, 256, (60, 32), dtype=np.uint8)
    with engine.begin() as conn:
        video_index.add_video(conn, 1, _frames(source))
        video_index.add_raw_frames(conn, [
            (1000 + k, _frames(rng.integers(0, 256, (3600, 32), dtype=np.uint8)))
            for k in range(30)])
    query = _frames(source[20:40])
    with engine.connect() as conn:
        found = video_index.search(conn, query)
    assert found and found[0].work_id == 1
    assert abs(found[0].work_start - 20) <= 1


def test_a_rebuilt_index_still_finds_its_videos():
    """``rebuild`` writes postings for many videos at once (concatenated entries): their
    work ids must read back as written, not byte-swapped."""
    rng = np.random.default_rng(9)
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine, tables=video_index.TABLES)
    sources = {w: rng.integers(0, 256, (40, 32), dtype=np.uint8) for w in (7, 1000, 70000)}
    with engine.begin() as conn:
        for work_id, bits in sources.items():
            video_index.add_video(conn, work_id, _frames(bits))
        assert video_index.rebuild(conn) == 3
    with engine.connect() as conn:
        for work_id, bits in sources.items():
            found = video_index.search(conn, _frames(bits[10:30]))
            assert found and found[0].work_id == work_id
            assert abs(found[0].work_start - 10) <= 1


def _reference_line(q: np.ndarray, w: np.ndarray) -> tuple[int, float, float, int]:
    """The line fit written as plainly as possible: every slope, every offset; with the
    distinct registered seconds on the line found."""
    best = (0, 1.0, 0.0, 0)
    for slope in video_index.SLOPES:
        offsets = np.round(w - slope * q).astype(np.int64)
        for off in sorted(set(offsets.tolist())):
            near = np.abs(offsets - off) <= 1
            support = len(set(q[near].tolist()))
            if support > best[0] or (support == best[0] and abs(slope - 1) < abs(best[1] - 1)):
                best = (support, slope, float(np.median((w - slope * q)[near])),
                        len(set(w[near].tolist())))
    return best


def test_the_vectorised_line_fit_agrees_with_the_plain_one():
    """All candidates are fitted in one numpy pass; each must get the line the plain
    loop finds (support, slope and offset), chance pairs and speed changes included."""
    rng = np.random.default_rng(1)
    groups, qs, ws, expected = [], [], [], []
    for g in range(200):
        n = int(rng.integers(1, 40))
        q = rng.integers(0, 20, n) * 0.5
        w = rng.integers(0, 3000, n).astype(np.float64)
        if g % 2:  # a real line at some speed, a third of the pairs by chance
            slope = video_index.SLOPES[int(rng.integers(0, len(video_index.SLOPES)))]
            on = np.round(slope * q + rng.integers(0, 3000)) + rng.integers(-1, 2, n)
            w = np.where(np.arange(n) < n // 3, w, on)
        expected.append(_reference_line(q, w))
        assert video_index._best_line(q, w) == expected[-1][:3]
        groups.append(np.full(n, g))
        qs.append(q)
        ws.append(w)
    support, slope, offset, seconds = video_index._lines(
        np.concatenate(qs), np.concatenate(ws), np.concatenate(groups), len(expected))
    assert [(int(a), float(b), float(c), int(d)) for a, b, c, d in zip(
        support, slope, offset, seconds, strict=True)] == expected


def test_a_noisy_clip_is_found_among_thirty_hours():
    """A clip whose frames differ from the registered ones in 40 of 256 bits (a
    re-encode), with unrelated variants beside them, against 30 synthetic
    one-hour videos: the exact chunk probes must still put the source on top, at the
    right time."""
    rng = np.random.default_rng(8)
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine, tables=video_index.TABLES)
    source = rng.integers(0, 256, (90, 32), dtype=np.uint8)
    with engine.begin() as conn:
        video_index.add_video(conn, 1, _frames(source))
        video_index.add_raw_frames(conn, [
            (1000 + k, _frames(rng.integers(0, 256, (3600, 32), dtype=np.uint8)))
            for k in range(30)])
    times, codes, rows = [], [], []
    for k in range(20):  # 10 s at two frames a second, from second 47
        bits = np.unpackbits(source[47 + k // 2])
        bits[rng.choice(256, 40, replace=False)] ^= 1
        for code, row in ((0, np.packbits(bits)), (1, rng.integers(0, 256, 32))):
            times.append(k * 0.5)
            codes.append(code)
            rows.append(row)
    query = FrameHashes(np.array(times), np.array(codes), np.array(rows, dtype=np.uint8), 10.0)
    with engine.connect() as conn:
        found = video_index.search(conn, query)
    assert found and found[0].work_id == 1
    assert abs(found[0].work_start - 47) <= 1
    assert found[0].matched_seconds >= 15
