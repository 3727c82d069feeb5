"""Media kinds as plugins: one object per kind of registered file (audio, image, ...).

In the spirit of python-threatexchange's ``SignalType``: everything that
depends on *what* a file is lives in one :class:`MediaKind` subclass, and the
services (registration, lookup, evidence), the API and the CLI only loop over
:data:`KINDS`. Adding a kind means writing ``registry/kinds/<name>.py`` (plus,
if its pages need them, ``templates/kinds/<name>/*.html``) and adding one
line to :func:`_register_builtin_kinds` below.

The life of a file, and which method handles it:

- **Recognise** — ``media.sniff`` classifies the bytes; :meth:`MediaKind.accepts`
  says whether a detected type belongs to the kind, :meth:`MediaKind.check_upload`
  validates a registration upload before anything is stored (duration, pixels...).
- **Fingerprint** — :meth:`MediaKind.fingerprint` (a registered file) returns a
  :class:`Fingerprinted`; :meth:`MediaKind.query` (a lookup or dispute file) returns
  a :class:`Query`. Both carry ``tracks``: named fingerprints, e.g.
  ``{"audio": [AudioFingerprint, ...]}`` or ``{"image": QueryHashes}``. A kind may
  fill several tracks (a video: ``"frames"`` and ``"audio"``), and every kind
  searches the tracks it understands, whatever kind the query file was.
- **Index** — :meth:`MediaKind.add` / :meth:`MediaKind.remove` /
  :meth:`MediaKind.rebuild` / :meth:`MediaKind.count`. A kind may own several
  indexes (list them in :attr:`MediaKind.indexes`, each a name + rebuild
  function); ``flask index rebuild --only NAME`` rebuilds one of them.
- **Search** — :meth:`MediaKind.search` returns :class:`Hit` s: the work, a score
  in 0..1, the meaning shown to users, and ``details`` (plain JSON: stored on
  ``WorkMatch.details`` at registration, turned into API fields by
  :meth:`MediaKind.match_fields`).
- **Serialise** — :meth:`MediaKind.media_fields` (the ``media`` object of a work in
  the API), :meth:`MediaKind.match_fields` (extra fields of a match in the API),
  ``templates/kinds/<name>/checked.html`` (the "what was checked" lines of the
  lookup page).
- **Compare** — :meth:`MediaKind.compare` (two registrations, or a query file and
  a registration) fills the comparison stored on a dispute: ``similarity``, the
  kind's own section (read by the report) and ``fingerprints`` (``fingerprints.json``
  of the evidence bundle). :meth:`MediaKind.bundle_side` is a work's own
  fingerprint in a work's bundle.

Everything takes its SQLAlchemy ``Connection`` (the caller owns the
transaction) and plain values; no Flask request state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import Connection

from registry.core.media import DetectedType, MediaLimits

Progress = Callable[[int, int], None]
#: How far a registration's fingerprinting is, 0.0 to 1.0 (long videos report it).
Fraction = Callable[[float], None]
#: Meanings of a hit shared by the kinds (each kind may add its own).
IDENTICAL_FILE = "identical_file"
WEAK_SIMILARITY = "weak_similarity"
SEGMENT_KEYS = ("query_start", "query_end", "work_start", "work_end")


@dataclass(frozen=True)
class Segment:
    """Seconds: where the match sits in the query and in the registered work."""

    query_start: float
    query_end: float
    work_start: float
    work_end: float

    def as_dict(self) -> dict[str, float]:
        return {"query_start": self.query_start, "query_end": self.query_end,
                "work_start": self.work_start, "work_end": self.work_end}


@dataclass
class Query:
    """A fingerprinted file to look for: named tracks plus what was measured."""

    media: str
    tracks: dict[str, Any]
    measured: dict[str, Any] = field(default_factory=dict)  # duration_s, width, height...
    thumbnail: bytes | None = None  # the query picture, shown inline only
    timings: dict[str, float] = field(default_factory=dict)  # e.g. "decode", in seconds


@dataclass
class Fingerprinted:
    """A registered file's fingerprints, computed outside any transaction."""

    digest: str  # the ledger's fingerprint digest
    content_code: str  # ISCC content code
    query: Query  # what the prior-match check searches with
    attributes: dict[str, Any] = field(default_factory=dict)  # set on the Work
    thumbnail: bytes | None = None  # the work's preview, kept if the owner allows
    key_frames: list[tuple[float, bytes]] = field(default_factory=list)  # (second, JPEG)
    extra: dict[str, Any] = field(default_factory=dict)  # kind-specific (e.g. key frames)


@dataclass
class Hit:
    """A registered work found in one kind's index."""

    work_id: int
    score: float
    kind: str  # the kind whose index found it ("audio", "image", ...)
    meaning: str
    details: dict[str, Any] = field(default_factory=dict)  # JSON; kept on WorkMatch
    segment: Segment | None = None
    work_duration_s: float | None = None  # for drawing the timeline of a segment


@dataclass(frozen=True)
class IndexSpec:
    """One index a kind owns: its name (for ``flask index rebuild --only``)."""

    name: str
    rebuild: Callable[[Connection, Progress | None], int]


class MediaKind:
    """Base of every media kind; the defaults make a kind that matches nothing."""

    name: ClassVar[str] = ""
    #: The ``fingerprint.kind`` of the ledger's registration entry.
    fingerprint_name: ClassVar[str] = ""
    #: Meanings this kind's hits may carry, strongest first.
    meanings: ClassVar[tuple[str, ...]] = ()
    #: How the kind's own meanings are shown on pages (translated lazily).
    meaning_labels: ClassVar[dict[str, Any]] = {}
    #: How a match this kind found is named on pages ("same recording").
    match_label: ClassVar[Any] = ""
    #: The kind of work a file of this kind is registered as when nobody says (bulk import).
    default_work_type: ClassVar[str] = ""
    #: Work types (values) whose main file must be of this kind, and the message if not.
    exclusive_work_types: ClassVar[frozenset[str]] = frozenset()
    wrong_file_message: ClassVar[Any] = ""

    # recognise ---------------------------------------------------------------
    #: ``media._classify_magic`` classes a lookup hands straight to :meth:`query`
    #: (which then makes its own checks); other files are sniffed in full first.
    magic: ClassVar[frozenset[str]] = frozenset()

    def accepts(self, detected: DetectedType) -> bool:
        return detected.kind == self.name

    def check_upload(self, path: Path, limits: MediaLimits) -> None:
        """Raise a :class:`MediaError` if the file cannot be registered."""

    # fingerprint ---------------------------------------------------------------
    def fingerprint(self, path: Path, limits: MediaLimits, *,
                    progress: Fraction | None = None) -> Fingerprinted:
        """``progress`` (optional) is told how far a long file is, 0.0 to 1.0."""
        raise NotImplementedError

    def query(self, path: Path, limits: MediaLimits, *, want_thumbnail: bool = False,
              max_seconds: float | None = None) -> Query:
        raise NotImplementedError

    # index -----------------------------------------------------------------------
    indexes: ClassVar[tuple[IndexSpec, ...]] = ()

    def add(self, conn: Connection, work_id: int, fp: Fingerprinted) -> None:
        """Add a registered work's fingerprints to this kind's index(es)."""

    def remove(self, conn: Connection, work_id: int) -> bool:
        return False

    def count(self, conn: Connection) -> int:
        """How many registered works a query of this kind is compared with."""
        return 0

    def search(self, conn: Connection, query: Query, *, limit: int = 10) -> list[Hit]:
        """Works in this kind's index(es) matching the tracks of ``query`` it understands."""
        return []

    def combine(self, hits: list[Hit]) -> Hit:
        """One hit for a work of this kind from the hits every kind's search found for
        it (a video's picture and its sound are found by two kinds); default: the best."""
        return max(hits, key=lambda h: h.score)

    # serialise -------------------------------------------------------------------
    def media_fields(self, work: Any) -> dict[str, Any]:
        """Kind-specific fields of a work's ``media`` object in the API."""
        return {}

    def match_fields(self, details: dict[str, Any], segment: Segment | None) -> dict[str, Any]:
        """Extra API fields of a match this kind found (lookup or registration check)."""
        return {"segment": segment.as_dict()} if segment is not None else {}

    def stored_match_fields(self, details: dict[str, Any]) -> dict[str, Any]:
        """Extra API fields of a match kept from the registration check (``WorkMatch``)."""
        if all(k in details for k in SEGMENT_KEYS):
            return {"segment": {k: details[k] for k in SEGMENT_KEYS}}
        return {}

    def identical(self, measured: dict[str, Any]) -> tuple[dict[str, Any], Segment | None]:
        """Details and segment of a byte-identical file found by its SHA-256."""
        return {}, None

    # compare -----------------------------------------------------------------------
    def compare(self, conn: Connection, query: Query | int, work_id: int,
                numbers: tuple[str | None, str]) -> dict[str, Any]:
        """Compare ``query`` (a file's :class:`Query`, or a registered work's id) with
        registered work ``work_id``. ``numbers`` are the registration numbers (query
        or None, work). Returns the keys to merge into the stored comparison:
        ``similarity``, the kind's report section, ``fingerprints``; or {}."""
        return {}

    def bundle_side(self, conn: Connection, work_id: int) -> dict[str, Any]:
        """The work's own fingerprint fields in its evidence bundle (or {})."""
        return {}

    def illustrate(self, comparison: dict[str, Any], query_path: Path, work_path: Path,
                   put: Callable[[bytes], str]) -> None:
        """Add the pictures the evidence report shows to ``comparison`` while both files
        are at hand (``put`` stores a JPEG and returns its storage key)."""


KINDS: dict[str, MediaKind] = {}


def register(kind: MediaKind) -> MediaKind:
    KINDS[kind.name] = kind
    return kind


def get(name: str) -> MediaKind | None:
    return KINDS.get(name)


def all_kinds() -> Iterator[MediaKind]:
    return iter(list(KINDS.values()))


def for_detected(detected: DetectedType) -> MediaKind | None:
    return next((k for k in KINDS.values() if k.accepts(detected)), None)


def index_names() -> list[str]:
    return [spec.name for kind in KINDS.values() for spec in kind.indexes]


#: Above this many rows PostgreSQL's planner estimate stands in for count(*).
EXACT_COUNT_LIMIT = 200_000
LARGE_COUNT_TTL_S = 60.0
_large_counts: dict[tuple[str, str], tuple[float, int]] = {}


def count_rows(conn: Connection, table: sa.Table) -> int:
    """Rows in ``table``: exact while small; for a large table PostgreSQL's planner
    estimate, or on SQLite an exact count remembered for a minute (counting a
    million rows would cost more than the lookup itself)."""
    if conn.dialect.name == "postgresql":
        estimate = conn.execute(sa.text("SELECT reltuples::bigint FROM pg_class "
                                        "WHERE oid = to_regclass(:name)"),
                                {"name": table.name}).scalar()
        if estimate is not None and estimate > EXACT_COUNT_LIMIT:
            return int(estimate)
    key = (conn.engine.url.render_as_string(hide_password=True), table.name)
    cached = _large_counts.get(key)
    if cached is not None and time.monotonic() - cached[0] < LARGE_COUNT_TTL_S:
        return cached[1]
    n = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    if n > EXACT_COUNT_LIMIT:
        _large_counts[key] = (time.monotonic(), n)
    return n


def _register_builtin_kinds() -> None:
    from registry.kinds.audio import AudioKind
    from registry.kinds.image import ImageKind
    from registry.kinds.video import VideoKind

    register(AudioKind())
    register(ImageKind())
    register(VideoKind())


_register_builtin_kinds()
