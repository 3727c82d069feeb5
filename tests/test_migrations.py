"""The migrations are the only way the schema is built: they must match the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import registry.models  # noqa: F401  (registers every table)
from registry.core.sql import metadata
from registry.models import migration_include_object


def test_fresh_database_from_migrations_matches_the_models(migrated_database):
    engine = create_engine(migrated_database)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "include_object": migration_include_object},
        )
        diff = compare_metadata(context, metadata)
    engine.dispose()
    assert diff == []


def test_every_model_table_exists_after_upgrade(migrated_database):
    from sqlalchemy import inspect

    engine = create_engine(migrated_database)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"users", "user_sessions", "alembic_version"} <= tables
    assert set(metadata.tables) <= tables


def test_0004_carries_audio_postings_over_and_back(tmp_path):
    """Upgrading packs the old one-row-per-posting index; downgrading unpacks it."""
    import numpy as np
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from registry import create_app
    from registry.core.matching.audio_index import POSTING
    from tests.conftest import _app_config

    app = create_app(_app_config(f"sqlite:///{tmp_path / 'm.db'}", tmp_path))
    old = [(5, 1, 10), (5, 1, 20), (5, 2, 7), (65539, 3, 1)]  # 65539: a probed bit set
    with app.app_context():
        upgrade(revision="0003")
        from registry.extensions import db

        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO audio_index VALUES (:k, :w, :p)"),
                         [{"k": k, "w": w, "p": p} for k, w, p in old])  # fmt: skip
            conn.execute(text("INSERT INTO audio_key_stats VALUES (5, 2), (65539, 1)"))
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT key, works, postings FROM audio_postings")).all()
        unpacked = {k: (n, [tuple(map(int, e)) for e in np.frombuffer(b, dtype=POSTING)])
                    for k, n, b in rows}  # fmt: skip
        # New keys: the item's six probed bits moved to the key's lowest bits.
        assert unpacked == {5 << 6: (2, [(1, 10), (1, 20), (2, 7)]), (3 << 6) | 1: (1, [(3, 1)])}
        downgrade(revision="0003")
        with db.engine.connect() as conn:
            back = conn.execute(text("SELECT * FROM audio_index ORDER BY 1, 2, 3")).all()
            stats = conn.execute(text("SELECT * FROM audio_key_stats ORDER BY 1")).all()
        db.engine.dispose()
    assert [tuple(r) for r in back] == old
    assert [tuple(r) for r in stats] == [(5, 2), (65539, 1)]


def test_0005_carries_image_rows_over_and_back(tmp_path):
    """Upgrading packs the old per-value rows into chunk postings; downgrading unpacks them."""
    import numpy as np
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from registry import create_app
    from registry.core.matching.image_index import ENTRY
    from tests.conftest import _app_config

    app = create_app(_app_config(f"sqlite:///{tmp_path / 'm.db'}", tmp_path))
    values = [0x0123_4567_89AB_CDEF, 0xFFFF_0000_1234_8000]  # the second is negative signed
    old = [(7, 0, 2, v) for v in values] + [(8, 1, 0, values[0])]
    with app.app_context():
        upgrade(revision="0004")
        from registry.extensions import db

        def chunk_columns(v):
            return {f"c{i}": (v >> (16 * (3 - i))) & 0xFFFF for i in range(4)}

        with db.engine.begin() as conn:
            conn.execute(text(
                'INSERT INTO image_hash_rows (work_id, kind, "window", value, c0, c1, c2, c3) '
                "VALUES (:w, :k, :win, :v, :c0, :c1, :c2, :c3)"), [
                {"w": w, "k": k, "win": win, "v": v - (1 << 64) if v >= 1 << 63 else v,
                 **chunk_columns(v)} for w, k, win, v in old])  # fmt: skip
        upgrade()
        with db.engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT key, postings FROM image_chunk_postings")).all())
        for v in values:  # each value is in the rows of its four chunks
            for i in range(4):
                key = (i << 16) | ((v >> (16 * (3 - i))) & 0xFFFF)
                entries = np.frombuffer(rows[key], dtype=ENTRY)
                got = {(int(e["work"]), int(e["kind"]), int(e["window"]), int(e["value"]))
                       for e in entries}  # fmt: skip
                assert {(w, k, win, v) for w, k, win, val in old if val == v} <= got
        assert sum(len(b) for b in rows.values()) == 4 * len(old) * ENTRY.itemsize
        downgrade(revision="0004")
        with db.engine.connect() as conn:
            back = conn.execute(text(
                'SELECT work_id, kind, "window", value FROM image_hash_rows')).all()
        db.engine.dispose()
    unsigned = {(w, k, win, v + (1 << 64) if v < 0 else v) for w, k, win, v in back}
    assert unsigned == set(old)


def test_video_02_rebuilds_the_frame_postings_for_every_chunk_and_back(tmp_path):
    """Upgrading rewrites the frame index from the stored frame hashes with all sixteen
    chunks as keys (what the search probes now); downgrading writes the eight of before."""
    import numpy as np
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from registry import create_app
    from registry.core.matching import video_index
    from registry.core.video import FrameHashes
    from tests.conftest import _app_config

    rng = np.random.default_rng(4)
    frames = FrameHashes(np.array([0.0, 1.0, 2.0, 2.0]), np.array([0, 0, 0, 1]),
                         rng.integers(0, 256, (4, 32), dtype=np.uint8), 3.0)
    app = create_app(_app_config(f"sqlite:///{tmp_path / 'm.db'}", tmp_path))

    def postings(conn):
        rows = conn.execute(text("SELECT key, postings FROM video_frame_postings")).all()
        return {k: sorted(tuple(map(int, e)) for e in np.frombuffer(b, video_index.ENTRY))
                for k, b in rows}

    def expected(chunks):
        out: dict[int, list] = {}
        words = frames.bits.reshape(-1, 16, 2).astype(np.int64)
        for row in range(len(frames)):
            for c in chunks:
                key = (c << 16) | int(words[row, c, 0] << 8 | words[row, c, 1])
                out.setdefault(key, []).append(
                    (9, int(frames.times[row]), int(frames.codes[row])))
        return {k: sorted(v) for k, v in out.items()}

    with app.app_context():
        upgrade(revision="creator4_01")
        from registry.extensions import db

        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO video_works VALUES (9, 'd', 3.0, :f)"),
                         {"f": frames.to_bytes()})
            # the old layout: the even chunks only
            conn.execute(text("INSERT INTO video_frame_postings VALUES (:k, :p)"), [
                {"k": k, "p": np.array(v, dtype=video_index.ENTRY).tobytes()}
                for k, v in expected(range(0, 16, 2)).items()])
        upgrade()
        with db.engine.begin() as conn:
            assert postings(conn) == expected(range(16))
            video_index.remove_video(conn, 9)  # the live code finds every upgraded row
            assert postings(conn) == {}
            video_index.add_video(conn, 9, frames)
            assert postings(conn) == expected(video_index.INDEXED_CHUNKS)
        downgrade(revision="creator4_01")
        with db.engine.connect() as conn:
            assert postings(conn) == expected(range(0, 16, 2))
        db.engine.dispose()


def test_image_02_rebuilds_feature_postings_with_geometry_and_back(tmp_path):
    """Upgrading rewrites the local-feature postings from the stored keypoints in the
    entry of today (work and geometry; format-1 keypoints get the unknown geometry),
    exactly as the live code writes them; downgrading writes work ids alone again and
    turns format-2 keypoints back into format 1."""
    import numpy as np
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from registry import create_app
    from registry.core import image_features as F
    from registry.core.matching import feature_index as fx
    from tests.conftest import _app_config

    new = F.registration_features(Path(__file__).parent / "fixtures" / "images" / "shapes.jpg")
    old = F.LocalFeatures(new.width, new.height, new.points, new.descriptors,
                          new.original_width, new.original_height)
    app = create_app(_app_config(f"sqlite:///{tmp_path / 'm.db'}", tmp_path))

    def postings(conn, dtype):
        rows = conn.execute(text("SELECT key, postings FROM image_feature_postings")).all()
        return {k: sorted(np.frombuffer(b, dtype).tolist()) for k, b in rows}

    def old_layout(items):
        out: dict[int, list] = {}
        for work_id, f in items:
            for key in np.unique(fx.descriptor_keys(f.descriptors)).tolist():
                out.setdefault(key, []).append(work_id)
        return {k: sorted(v) for k, v in out.items()}

    with app.app_context():
        upgrade(revision="video_02")
        from registry.extensions import db

        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO image_features VALUES (3, :a), (4, :b)"),
                         {"a": old.to_bytes(), "b": new.to_bytes()})
        upgrade()
        with db.engine.begin() as conn:
            migrated = postings(conn, fx.ENTRY)
            conn.execute(text("DELETE FROM image_feature_postings"))
            fx.rebuild(conn)  # what the live code writes from the same stored keypoints
            assert migrated == postings(conn, fx.ENTRY)
            geo = {g for row in migrated.values() for w, g in row if w == 3}
            assert geo == {fx.UNKNOWN_GEOMETRY} and fx.works_without_geometry(conn) == [3]
            assert fx.UNKNOWN_GEOMETRY not in {g for r in migrated.values() for w, g in r
                                               if w == 4}
        downgrade(revision="video_02")
        with db.engine.connect() as conn:
            assert postings(conn, np.dtype(">i4")) == old_layout([(3, old), (4, new)])
            blobs = dict(conn.execute(text("SELECT work_id, features FROM image_features")).all())
        assert bytes(blobs[4]) == old.to_bytes() == bytes(blobs[3])
        db.engine.dispose()


def test_audio_02_adds_the_pair_index_that_a_rebuild_fills_and_back(tmp_path):
    """``audio_02`` creates ``audio_pair_postings`` empty beside the stored peaks; the
    rebuild fills it from them (the README's upgrade path); downgrading drops it."""
    import numpy as np
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text

    from registry import create_app
    from registry.core.audio_peaks import PeakPrint
    from registry.core.matching import pair_index
    from tests.conftest import _app_config

    rng = np.random.default_rng(2)
    times = np.sort(rng.uniform(0, 600, 200)).astype(np.float32)
    peaks = PeakPrint(times, rng.uniform(1, 100, 200).astype(np.float32), 10.0)
    app = create_app(_app_config(f"sqlite:///{tmp_path / 'm.db'}", tmp_path))
    with app.app_context():
        upgrade(revision="image_02")
        from registry.extensions import db

        assert "audio_pair_postings" not in inspect(db.engine).get_table_names()
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO audio_peak_recordings VALUES (7, 10.0, 200, :p)"),
                         {"p": peaks.to_bytes()})
        upgrade(revision="audio_02")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM audio_pair_postings")).scalar() == 0
            assert pair_index.rebuild(conn) == 1
            rows = conn.execute(text("SELECT key, works, postings FROM audio_pair_postings")).all()
        entries = np.frombuffer(b"".join(bytes(r[2]) for r in rows), pair_index.PAIR_POSTING)
        assert entries.size == pair_index.reference_pairs(peaks).key.size > 0
        assert set(entries["work"].tolist()) == {7} and {r[1] for r in rows} == {1}
        downgrade(revision="image_02")
        assert "audio_pair_postings" not in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_migrations_import_no_live_code():
    """Frozen revisions: a fresh ``db upgrade`` must keep working when the models,
    services or core change, so no revision imports ``registry``."""
    import ast
    from pathlib import Path

    versions = Path(__file__).resolve().parents[1] / "migrations" / "versions"
    offenders = []
    for path in sorted(versions.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "registry"]
    assert offenders == []
