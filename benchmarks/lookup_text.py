"""Text search speed over many works, on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

    .venv/bin/python benchmarks/lookup_text.py [--quick] [--db sqlite|postgres|both]
                                               [--pg URL] [--works N]

Builds (once, cached) a database with the migrations and N synthetic works
(1,000,000; ``--quick``: 100,000): Kazakh-like titles in Cyrillic drawn from a
Zipf-distributed vocabulary, one author and a registrant per work, 5% private.
The search documents are built by ``rebuild_index`` (the same code that keeps
them current). Queries are typed the way people type: the Kazakh Latin
alphabet, plain ASCII, Cyrillic, a prefix of the last word, an author's name,
with and without filters; each kind is timed as ``search_works`` (page of 20
plus the capped total), the call the page and the API make.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from registry.core.text_normalize import kazakh_latin  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache" / "lookup_text"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/lookup_text_bench"
SYLLABLES = ["қа", "зақ", "ән", "ші", "дала", "та", "ғы", "бұл", "ақ", "жан", "күй", "ой", "сұ",
             "лу", "ар", "маң", "өр", "нұр", "ел", "жыр", "сен", "бі", "тау", "көл", "ай",
             "гүл", "сәу", "ле", "қыз", "ұл", "дом", "бы", "ра", "ша", "ңы", "үр", "һа"]
FIRST = ["Айгерім", "Ерлан", "Дана", "Марат", "Әсел", "Нұрлан", "Гүлнар", "Бауыржан", "Жанар",
         "Асқар", "Сәуле", "Қайрат", "Мөлдір", "Ұлжан", "Үміт", "Тимур", "Ольга", "Сергей"]
LAST = ["Сейітова", "Қалдаяқов", "Әлиева", "Жұмабаев", "Нұрғалиева", "Омаров", "Ким",
        "Смағұлов", "Тоқтарова", "Бекова", "Иванов", "Құнанбаев", "Әуезова", "Шәріпов"]


def vocabulary(n: int = 20_000) -> list[str]:
    """Made-up Kazakh-looking words, in random order (their rank is their frequency)."""
    rng = random.Random(3)
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    ordered = sorted(words)
    rng.shuffle(ordered)
    return ordered


class Zipf:
    """Word ``k`` (from 1) drawn with probability proportional to 1/k, as in real text."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.cumulative = list(itertools.accumulate(1 / k for k in range(1, len(words) + 1)))

    def pick(self, rng: random.Random) -> str:
        return rng.choices(self.words, cum_weights=self.cumulative)[0]


# --------------------------------------------------------------------------- building


def app_for(url: str, instance: Path):
    from registry import create_app

    instance.mkdir(parents=True, exist_ok=True)
    return create_app({
        "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench",
        "TAMGA_STORAGE_DIR": str(instance / "storage"), "TAMGA_REDIS_URL": None,
    })


def ensure_pg_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    admin = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).scalar():
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def reindex_all(engine: sa.Engine) -> None:
    """Recreate the search schema and its documents (after a change to either)."""
    from registry.services.search import create_search_schema, drop_search_schema, rebuild_index

    t = time.perf_counter()
    with engine.begin() as conn:
        drop_search_schema(conn)
        create_search_schema(conn)
        rebuild_index(conn)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql"
                             else "ANALYZE")
    print(f"  search documents rebuilt in {time.perf_counter() - t:.0f} s")


def build(url: str, instance: Path, n: int, reindex: bool = False) -> None:
    """Migrate and fill unless the database already holds ``n`` works."""
    from flask_migrate import upgrade

    from registry.extensions import db

    app = app_for(url, instance)
    with app.app_context():
        upgrade()
        engine = db.engine
        with engine.connect() as conn:
            have = conn.execute(sa.text("SELECT count(*) FROM works")).scalar()
        if have == n:
            print(f"  reusing {n:,} works")
            if reindex:
                reindex_all(engine)
            return
        if have:
            raise SystemExit(f"the database holds {have} works, not {n}: drop it first")
        t = time.perf_counter()
        fill(engine, n)
        print(f"  {n:,} works written in {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        from registry.services.search import rebuild_index

        with engine.begin() as conn:
            rebuild_index(conn)
        print(f"  search documents built in {time.perf_counter() - t:.0f} s")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql"
                                 else "ANALYZE")
        engine.dispose()


def fill(engine: sa.Engine, n: int) -> None:
    from registry.models.user import User
    from registry.models.work import Work, WorkAuthor

    rng = random.Random(5)
    zipf = Zipf(vocabulary())
    users = [{"id": i + 1, "email": f"u{i}@example.kz", "password_hash": "x",
              "display_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
              "created_at": datetime(2024, 1, 1, tzinfo=UTC)} for i in range(5000)]
    with engine.begin() as conn:
        conn.execute(sa.insert(User.__table__), users)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    types = ["musical_work", "sound_recording", "photograph", "artwork"]
    for base in range(0, n, 20_000):
        works, authors = [], []
        for i in range(base, min(n, base + 20_000)):
            title = " ".join(zipf.pick(rng) for _ in range(rng.randint(1, 4))).capitalize()
            user = rng.randint(1, 5000)
            kind = rng.choice(types)
            works.append({
                "id": i + 1, "registration_number": f"KZ-{2024 + i % 3}-{i + 1:07d}",
                "registrant_id": user, "owner_id": user, "status": "registered",
                "registered_at": start + timedelta(minutes=i), "updated_at": start,
                "title": title, "work_type": kind, "country": rng.choice(["KZ", "KZ", "KG", "UZ"]),
                "visibility": "private" if rng.random() < 0.05 else "public",
                "media_kind": "image" if kind in ("photograph", "artwork") else "audio",
            })
            authors.append({"work_id": i + 1, "position": 0, "role": "author", "share": 100,
                            "full_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}"})
        with engine.begin() as conn:
            conn.execute(sa.insert(Work.__table__), works)
            conn.execute(sa.insert(WorkAuthor.__table__), authors)


# --------------------------------------------------------------------------- querying


def ascii_latin(text: str) -> str:
    """How someone without Kazakh letters on the keyboard types: Latin, no accents."""
    decomposed = unicodedata.normalize("NFKD", kazakh_latin(text).replace("ı", "i"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def queries(conn: sa.Connection, rng: random.Random) -> dict[str, list[tuple[str, dict]]]:
    """Queries made from works that exist (titles and authors of random works)."""
    top = conn.execute(sa.text("SELECT max(id) FROM works")).scalar()
    ids = [rng.randint(1, top) for _ in range(40)]
    rows = conn.execute(sa.text(
        "SELECT w.title, a.full_name FROM works w JOIN work_authors a ON a.work_id = w.id "
        f"WHERE w.id IN ({','.join(map(str, ids))})")).all()
    titles = [r[0].split() for r in rows]
    out: dict[str, list[tuple[str, dict]]] = {
        "title words, Kazakh Latin": [(kazakh_latin(" ".join(t[:2])), {}) for t in titles],
        "title word, plain ASCII": [(ascii_latin(t[-1]), {}) for t in titles],
        "title, Cyrillic": [(" ".join(t), {}) for t in titles],
        "prefix of a title word": [(t[0][:4], {}) for t in titles],
        "author's name, Latin": [(kazakh_latin(r[1]), {}) for r in rows],
        "title word + filters": [(kazakh_latin(t[0]), {"work_type": "photograph",
                                                       "country": "KZ", "year": 2024})
                                 for t in titles],
        "registration number": [(f"KZ-2025-{rng.randint(1, top):07d}", {}) for _ in rows],
    }
    return out


def run_queries(url: str, instance: Path, label: str) -> None:
    from registry.extensions import db
    from registry.services.search import SearchFilters, search_works

    app = app_for(url, instance)
    rng = random.Random(11)
    print(f"\n{label}")
    print(f"  {'query kind':<26}{'p50 ms':>9}{'p90 ms':>9}{'max ms':>9}{'hits (median)':>15}")
    with app.app_context():
        conn = db.session.connection()
        for name, items in queries(conn, rng).items():
            times, totals = [], []
            for q, filters in items[:3]:
                search_works(conn, q, SearchFilters(**filters))  # warm the cache
            for q, filters in items:
                t = time.perf_counter()
                found = search_works(conn, q, SearchFilters(**filters))
                times.append((time.perf_counter() - t) * 1000)
                totals.append(found.total)
            times.sort()
            print(f"  {name:<26}{statistics.median(times):9.1f}{times[int(0.9 * len(times))]:9.1f}"
                  f"{times[-1]:9.1f}{statistics.median(totals):15,.0f}")
        db.session.rollback()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg", default=PG_DEFAULT)
    parser.add_argument("--works", type=int, default=None)
    parser.add_argument("--reindex", action="store_true",
                        help="rebuild the search documents of a cached database")
    args = parser.parse_args()
    n = args.works or (100_000 if args.quick else 1_000_000)
    if args.db in ("sqlite", "both"):
        instance = CACHE / f"sqlite-{n}"
        url = f"sqlite:///{instance / 'tamga.db'}"
        print(f"SQLite, {n:,} works:")
        build(url, instance, n, args.reindex)
        run_queries(url, instance, f"SQLite FTS5, {n:,} works")
    if args.db in ("postgres", "both"):
        pg = args.pg if n == 1_000_000 else f"{args.pg}_{n}"
        ensure_pg_database(pg)
        print(f"PostgreSQL, {n:,} works:")
        build(pg, CACHE / f"pg-{n}", n, args.reindex)
        run_queries(pg, CACHE / f"pg-{n}", f"PostgreSQL tsvector/GIN, {n:,} works")


if __name__ == "__main__":
    main()
