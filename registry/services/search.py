"""Public text search over registered works, one interface on SQLite and PostgreSQL.

What is indexed is the *folded* text (see :mod:`registry.core.text_normalize`)
of a public work's titles (column ``title``) and of its authors' and
registrant's names (column ``people``), so Cyrillic, Kazakh Latin and plain
ASCII queries meet in the middle. Only public works that are registered, in
conflict or withdrawn have a document. Private works are never indexed: only
their registration number, ISCC or a file's SHA-256 finds them (and the hit
carries no title or names).

* SQLite: an FTS5 table ``search_fts`` (rowid = work id), ranked by bm25.
* PostgreSQL: ``search_fts_docs`` with a generated, weighted ``tsvector`` and a
  GIN index, ranked by ``ts_rank``.

Both are created by migration ``0002_search`` (:func:`create_search_schema`)
and kept current by a SQLAlchemy ``after_flush`` hook installed on import of
this module: any flush that adds or changes a work, its authors, or a user's
display name refreshes the affected documents in the same transaction, so no
service has to remember to call anything. :func:`rebuild_index` rebuilds all.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from registry.core.text_normalize import fold, tokens
from registry.models.user import User
from registry.models.work import Visibility, Work, WorkAuthor, WorkFile, WorkStatus, WorkType

FTS_TABLE = "search_fts"
DOCS_TABLE = "search_fts_docs"
MAX_TOKENS = 8
COUNT_CAP = 1000  # totals above this are shown as "1000+"
RANK_WINDOW = 2_000  # matches ranked per query (see text_matches)
#: Statuses the public sees in search (processing and failed registrations are not yet works).
SEARCHABLE_STATUSES = (WorkStatus.REGISTERED, WorkStatus.CONFLICT, WorkStatus.WITHDRAWN)
NUMBER_RE = re.compile(r"^[A-Za-z]{2,8}-\d{4}-\d{4,}$")
SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
ISCC_RE = re.compile(r"^(ISCC:)?[A-Z2-7]{12,}$", re.IGNORECASE)
TITLE_WEIGHT, PEOPLE_WEIGHT = 4.0, 1.0

works_t = Work.__table__
authors_t = WorkAuthor.__table__
users_t = User.__table__
files_t = WorkFile.__table__
#: Copied from the work so that filters never need a join (kept current with the text).
FILTER_COLUMNS = ("work_type", "country", "year", "status")
fts_t = sa.table(FTS_TABLE, sa.column("rowid", sa.Integer), sa.column("title"),
                 sa.column("people"), *(sa.column(c) for c in FILTER_COLUMNS))
docs_t = sa.table(DOCS_TABLE, sa.column("work_id", sa.Integer), sa.column("title"),
                  sa.column("people"), sa.column("tsv"), *(sa.column(c) for c in FILTER_COLUMNS))


# --------------------------------------------------------------------------- schema

_SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "title, people, work_type UNINDEXED, country UNINDEXED, year UNINDEXED, status UNINDEXED,"
    " tokenize = 'unicode61', prefix = '2 3')",
]
_PG_DDL = [
    f"CREATE TABLE IF NOT EXISTS {DOCS_TABLE} ("
    " work_id integer PRIMARY KEY,"
    " title text NOT NULL DEFAULT '',"
    " people text NOT NULL DEFAULT '',"
    " work_type varchar(32), country varchar(8), year integer, status varchar(16),"
    " tsv tsvector GENERATED ALWAYS AS ("
    "  setweight(to_tsvector('simple'::regconfig, title), 'A') ||"
    "  setweight(to_tsvector('simple'::regconfig, people), 'B')) STORED)",
    f"CREATE INDEX IF NOT EXISTS {DOCS_TABLE}_tsv ON {DOCS_TABLE} USING gin (tsv)",
]


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def create_search_schema(conn: Connection) -> None:
    """What full-text search needs on this database (idempotent; used by the migration)."""
    for ddl in _PG_DDL if is_postgres(conn) else _SQLITE_DDL:
        conn.exec_driver_sql(ddl)


def drop_search_schema(conn: Connection) -> None:
    name = DOCS_TABLE if is_postgres(conn) else FTS_TABLE
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


# --------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class Document:
    work_id: int
    title: str
    people: str
    work_type: str
    country: str | None
    year: int
    status: str

    def row(self, id_column: str) -> dict[str, object]:
        return {id_column: self.work_id, "title": self.title, "people": self.people,
                "work_type": self.work_type, "country": self.country, "year": self.year,
                "status": self.status}


def build_documents(conn: Connection, work_ids: Iterable[int]) -> list[Document]:
    """Folded documents of the public, searchable works among ``work_ids``.

    Private works, and registrations still processing or failed, get none.
    """
    ids = sorted(set(work_ids))
    if not ids:
        return []
    rows = conn.execute(
        sa.select(works_t.c.id, works_t.c.title, works_t.c.original_title,
                  users_t.c.display_name, works_t.c.work_type, works_t.c.country,
                  works_t.c.registered_at, works_t.c.status)
        .join(users_t, users_t.c.id == works_t.c.registrant_id)
        .where(works_t.c.id.in_(ids), works_t.c.visibility == Visibility.PUBLIC,
               works_t.c.status.in_(SEARCHABLE_STATUSES))
    ).all()
    names: dict[int, list[str]] = {}
    for work_id, full_name in conn.execute(
        sa.select(authors_t.c.work_id, authors_t.c.full_name)
        .where(authors_t.c.work_id.in_([r[0] for r in rows]))
        .order_by(authors_t.c.work_id, authors_t.c.position)
    ):
        names.setdefault(work_id, []).append(full_name)
    return [
        Document(r.id, fold(f"{r.title} {r.original_title or ''}"),
                 fold(" ".join([*names.get(r.id, []), r.display_name or ""])),
                 str(r.work_type), r.country, r.registered_at.year, str(r.status))
        for r in rows
    ]


def refresh_documents(conn: Connection, work_ids: Iterable[int]) -> None:
    """Re-index ``work_ids``: drop their documents, write those of the public ones."""
    ids = sorted({int(i) for i in work_ids if i is not None})
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        docs = build_documents(conn, chunk)
        _write(conn, chunk, docs)


def _write(conn: Connection, ids: Sequence[int], docs: Sequence[Document]) -> None:
    if is_postgres(conn):
        conn.execute(sa.delete(docs_t).where(docs_t.c.work_id.in_(ids)))
        rows = [d.row("work_id") for d in docs]
        target = docs_t
    else:
        conn.execute(sa.delete(fts_t).where(fts_t.c.rowid.in_(ids)))
        rows = [d.row("rowid") for d in docs]
        target = fts_t
    if rows:
        conn.execute(sa.insert(target), rows)


def rebuild_index(conn: Connection, batch: int = 5000) -> int:
    """Rebuild every document from the works table; returns the number of works read."""
    conn.execute(sa.delete(docs_t if is_postgres(conn) else fts_t))
    last, total = 0, 0
    while True:
        ids = conn.execute(sa.select(works_t.c.id).where(works_t.c.id > last)
                           .order_by(works_t.c.id).limit(batch)).scalars().all()
        if not ids:
            return total
        _write(conn, [], build_documents(conn, ids))
        last, total = ids[-1], total + len(ids)


# --------------------------------------------------------------------------- keeping it current

_present: dict[str, bool] = {}


def _schema_present(conn: Connection) -> bool:
    """Whether this database has the search tables (a bare test schema may not)."""
    url = conn.engine.url.render_as_string(hide_password=True)
    if url not in _present:
        name = DOCS_TABLE if is_postgres(conn) else FTS_TABLE
        _present[url] = sa.inspect(conn).has_table(name)
    return _present[url]


def _affected_work_ids(session: Session) -> set[int]:
    ids: set[int] = set()
    renamed: list[int] = []
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Work):
            ids.add(obj.id)
        elif isinstance(obj, WorkAuthor):
            ids.add(obj.work_id)
        elif isinstance(obj, User) and sa.inspect(obj).attrs.display_name.history.deleted:
            renamed.append(obj.id)
    if renamed:
        ids.update(session.connection().execute(
            sa.select(works_t.c.id).where(works_t.c.registrant_id.in_(renamed))).scalars())
    ids.discard(None)  # type: ignore[arg-type]
    return ids


def _after_flush(session: Session, _context: object) -> None:
    ids = _affected_work_ids(session)
    if ids:
        conn = session.connection()
        if _schema_present(conn):
            refresh_documents(conn, ids)


def install_hooks() -> None:
    """Keep the index current on every ORM flush (done once, on import)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


install_hooks()


# --------------------------------------------------------------------------- searching


@dataclass(frozen=True)
class SearchFilters:
    work_type: str | None = None
    country: str | None = None
    year: int | None = None
    status: str | None = None

    @classmethod
    def parse(cls, args: dict[str, str]) -> SearchFilters:
        """Lenient: a value that is not one of the known ones is ignored, never an error."""
        kind = args.get("type") or args.get("kind") or None
        status = args.get("status") or None
        year = (args.get("year") or "").strip()
        country = (args.get("country") or "").strip().upper()[:8] or None
        return cls(
            work_type=kind if kind in {t.value for t in WorkType} else None,
            country=country,
            year=int(year) if year.isdigit() and 1900 < int(year) < 3000 else None,
            status=status if status in {s.value for s in SEARCHABLE_STATUSES} else None,
        )

    def is_empty(self) -> bool:
        return not (self.work_type or self.country or self.year or self.status)


@dataclass(frozen=True)
class SearchHit:
    """One work as the public sees it: a private work only by number, date and hashes."""

    work_id: int
    registration_number: str
    registered_at: datetime
    status: str
    work_type: str
    media_kind: str
    is_public: bool
    title: str | None
    original_title: str | None
    country: str | None
    authors: list[str]
    registrant: str | None
    iscc: str | None
    sha256: str | None
    matched_by: str  # "text", "number", "iscc", "sha256" or "file"
    has_thumbnail: bool = False  # the owner lets the public see a thumbnail
    provenance: dict | None = None  # what the file declared (public works only)
    ai_use: str | None = None  # the creator's AI declaration (public works only)
    ai_label: str | None = None  # the visible AI label, declared or detected (public works)


@dataclass
class SearchPage:
    """A page of hits, shaped like Flask-SQLAlchemy's pagination for the templates."""

    query: str
    hits: list[SearchHit]
    page: int
    per_page: int
    total: int
    total_capped: bool = False
    exact_number: str | None = None
    filters: SearchFilters = field(default_factory=SearchFilters)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def find_number(conn: Connection, query: str) -> str | None:
    """The registration number ``query`` names exactly (any case), if it exists."""
    q = query.strip().upper()
    if not NUMBER_RE.match(q):
        return None
    return conn.execute(sa.select(works_t.c.registration_number)
                        .where(works_t.c.registration_number == q)).scalar()


def _status_in() -> sa.ColumnElement[bool]:
    return works_t.c.status.in_(SEARCHABLE_STATUSES)


def _filtered(stmt: sa.Select, filters: SearchFilters) -> sa.Select:
    stmt = stmt.where(_status_in())
    if filters.work_type:
        stmt = stmt.where(works_t.c.work_type == WorkType(filters.work_type))
    if filters.country:
        stmt = stmt.where(works_t.c.country == filters.country)
    if filters.status:
        stmt = stmt.where(works_t.c.status == WorkStatus(filters.status))
    if filters.year:
        start = datetime(filters.year, 1, 1, tzinfo=UTC)
        end = datetime(filters.year + 1, 1, 1, tzinfo=UTC)
        stmt = stmt.where(works_t.c.registered_at >= start, works_t.c.registered_at < end)
    return stmt


def _code_ids(conn: Connection, query: str, filters: SearchFilters) -> list[tuple[int, str]]:
    """Works that ``query`` names by a code: number, ISCC or a file's SHA-256."""
    q = query.strip()
    if NUMBER_RE.match(q):
        cond, how = works_t.c.registration_number == q.upper(), "number"
    elif SHA256_RE.match(q):
        sub = sa.select(files_t.c.work_id).where(files_t.c.sha256 == q.lower())
        cond, how = works_t.c.id.in_(sub), "sha256"
    elif ISCC_RE.match(q):
        code = q.upper() if q.upper().startswith("ISCC:") else "ISCC:" + q.upper()
        cond, how = works_t.c.iscc == code, "iscc"
    else:
        return []
    stmt = _filtered(sa.select(works_t.c.id).where(cond), filters).order_by(works_t.c.id)
    return [(wid, how) for wid in conn.execute(stmt.limit(50)).scalars()]


def _match_query(conn: Connection, words: list[str]) -> tuple[sa.ColumnElement, sa.ColumnElement,
                                                                   sa.ColumnElement, sa.FromClause]:
    """(work id, score, condition, table): every word exactly, the last also as a prefix."""
    if is_postgres(conn):
        text = " & ".join([*words[:-1], f"{words[-1]}:*"])
        tsq = sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), text)
        return (docs_t.c.work_id, sa.func.ts_rank(docs_t.c.tsv, tsq),
                docs_t.c.tsv.op("@@")(tsq), docs_t)
    text = " ".join([*(f'"{w}"' for w in words[:-1]), f'"{words[-1]}"*'])
    fts: sa.ColumnClause[Any] = sa.literal_column(FTS_TABLE)
    return (fts_t.c.rowid, -sa.func.bm25(fts, TITLE_WEIGHT, PEOPLE_WEIGHT),
            fts.op("MATCH")(text), fts_t)


def text_matches(conn: Connection, words: list[str], filters: SearchFilters) -> list[int]:
    """Ids of the searchable works holding ``words``, best first, at most ``RANK_WINDOW``.

    One round trip fetches the candidates with their score; ranking and paging
    happen here. Filters apply before the window, so a filtered search loses
    nothing; an unfiltered search for a very common word ranks the first
    ``RANK_WINDOW`` matches only, which keeps every query bounded in time.
    """
    work_id, score, condition, table = _match_query(conn, words)
    stmt = sa.select(work_id, score).select_from(table).where(condition)
    for name, value in _filter_values(filters).items():
        stmt = stmt.where(table.c[name] == value)
    rows = sorted(conn.execute(stmt.limit(RANK_WINDOW)).all(), key=lambda r: (-r[1], -r[0]))
    return [r[0] for r in rows]


def _filter_values(filters: SearchFilters) -> dict[str, object]:
    values = {"work_type": filters.work_type, "country": filters.country, "year": filters.year,
              "status": filters.status}
    return {name: value for name, value in values.items() if value}


def _browse_select(filters: SearchFilters) -> sa.Select:
    """No words, only filters: public works, newest first."""
    stmt = sa.select(works_t.c.id).where(works_t.c.visibility == Visibility.PUBLIC)
    return _filtered(stmt, filters).order_by(works_t.c.registered_at.desc(), works_t.c.id.desc())


def _count(conn: Connection, stmt: sa.Select) -> tuple[int, bool]:
    limited = stmt.order_by(None).limit(COUNT_CAP + 1).subquery()
    n = conn.execute(sa.select(sa.func.count()).select_from(limited)).scalar_one()
    return min(n, COUNT_CAP), n > COUNT_CAP


def search_works(conn: Connection, query: str, filters: SearchFilters | None = None, *,
                 page: int = 1, per_page: int = 20) -> SearchPage:
    """Works matching ``query`` (words in any script, or a code), best first.

    Code hits (number, ISCC, SHA-256) come first on page 1. An empty query with
    filters lists the matching public works, newest first.
    """
    filters = filters or SearchFilters()
    page = max(1, page)
    words = tokens(query)[:MAX_TOKENS]
    codes = _code_ids(conn, query, filters) if query.strip() else []
    result = SearchPage(query, [], page, per_page, len(codes), filters=filters,
                        exact_number=find_number(conn, query) if query.strip() else None)
    found = codes if page == 1 else []
    offset = (page - 1) * per_page
    if words and not codes:
        ids = text_matches(conn, words, filters)
        result.total, result.total_capped = len(ids), len(ids) >= RANK_WINDOW
        found = [(wid, "text") for wid in ids[offset:offset + per_page]]
    elif not query.strip() and not filters.is_empty():
        stmt = _browse_select(filters)
        result.total, result.total_capped = _count(conn, stmt)
        ids = list(conn.execute(stmt.limit(per_page).offset(offset)).scalars().all())
        found = [(wid, "text") for wid in ids]
    result.hits = load_hits(conn, found)
    return result


def load_hits(conn: Connection, found: Sequence[tuple[int, str]]) -> list[SearchHit]:
    """The public view of each work in ``found`` (work id, how it matched), in that order."""
    ids = [wid for wid, _ in found]
    if not ids:
        return []
    rows = {r.id: r for r in conn.execute(
        sa.select(works_t, users_t.c.display_name)
        .join(users_t, users_t.c.id == works_t.c.registrant_id).where(works_t.c.id.in_(ids)))}
    names: dict[int, list[str]] = {}
    for wid, name in conn.execute(
        sa.select(authors_t.c.work_id, authors_t.c.full_name)
        .where(authors_t.c.work_id.in_(ids)).order_by(authors_t.c.position)
    ):
        names.setdefault(wid, []).append(name)
    sha: dict[int, str] = dict(conn.execute(sa.select(files_t.c.work_id, files_t.c.sha256)
                            .where(files_t.c.work_id.in_(ids), files_t.c.role == "main")).all())
    hits = [_hit(rows[wid], names.get(wid, []), sha.get(wid), how)
            for wid, how in found if wid in rows]
    return _with_provenance(conn, hits)


def _with_provenance(conn: Connection, hits: list[SearchHit]) -> list[SearchHit]:
    """The ``provenance`` object of each public hit; a private work's stays hidden."""
    from registry.models.provenance import WorkProvenance
    from registry.services.provenance import label_kind, provenance_record

    public = [h.work_id for h in hits if h.is_public]
    rows: dict[int, Any] = {}
    if public:
        table = WorkProvenance.__table__
        rows = {r.work_id: r for r in conn.execute(
            sa.select(table).where(table.c.work_id.in_(public)))}
    def labelled(hit: SearchHit) -> SearchHit:
        row = rows.get(hit.work_id)
        return dataclasses.replace(
            hit, provenance=provenance_record(row),
            ai_label=label_kind(hit.ai_use, row.file_ai_claim if row is not None else None))

    return [labelled(hit) if hit.is_public else hit for hit in hits]


def _hit(row: sa.Row, authors: list[str], sha256: str | None, how: str) -> SearchHit:
    public = row.visibility == Visibility.PUBLIC
    return SearchHit(
        work_id=row.id, registration_number=row.registration_number,
        registered_at=row.registered_at, status=str(row.status), work_type=str(row.work_type),
        media_kind=row.media_kind, is_public=public,
        title=row.title if public else None,
        original_title=row.original_title if public else None,
        country=row.country if public else None,
        authors=authors if public else [], registrant=row.display_name if public else None,
        iscc=row.iscc, sha256=sha256, matched_by=how,
        has_thumbnail=public and bool(row.allow_thumbnail and row.thumbnail_key),
        ai_use=str(row.ai_use) if public else None,
    )
