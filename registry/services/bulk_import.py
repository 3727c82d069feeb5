"""Registering every file of a folder for one owner (``flask works import``).

Each file goes through the same service as a web upload
(:func:`registry.services.works.register_work`) and its registration job runs at
once (:func:`registry.services.jobs.run_job`), one commit per file, so one bad
file never loses the others. Metadata comes from an optional CSV::

    filename,title,work_type,created_on,authors,ai_use,description,visibility
    dombra.mp3,Dombra at dawn,sound_recording,2025,Aigerim S:performer:100,none,,public

``authors`` is ``Name:role:share`` separated by ``;``. Without a row the title is
made from the file name and the kind of work is guessed from the content
(audio → sound recording, image → photograph).
"""

from __future__ import annotations

import csv
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from registry.core.errors import Conflict, TamgaError, ValidationFailed
from registry.extensions import db
from registry.models.job import Job, JobStatus
from registry.models.user import User
from registry.models.work import Work, WorkStatus, WorkType
from registry.services import jobs
from registry.services.metadata_input import metadata_from_fields, parse_enum
from registry.services.settings import RegistrySettings
from registry.services.work_metadata import DEFAULT_ROLES, AuthorInput, parse_share
from registry.services.works import Upload, register_work

CSV_COLUMNS = ("filename", "title", "work_type", "created_on", "authors", "ai_use",
               "description", "visibility")
log = logging.getLogger(__name__)
REGISTERED, CONFLICT, SKIPPED, REJECTED, FAILED = (
    "registered", "conflict", "skipped", "rejected", "failed")


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file: a status above, the number given, and why if not."""

    filename: str
    status: str
    registration_number: str | None = None
    reason: str | None = None


@dataclass
class ImportSummary:
    outcomes: list[FileOutcome] = field(default_factory=list)
    #: CSV rows naming files that are not in the folder.
    missing: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def counts(self) -> Counter[str]:
        return Counter(o.status for o in self.outcomes)

    def with_status(self, status: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]


def read_metadata_csv(path: Path) -> dict[str, dict[str, str]]:
    """Rows by file name; only ``filename`` is required, other columns may be absent."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "filename" not in reader.fieldnames:
            raise ValidationFailed(_("The metadata CSV needs a “filename” column."),
                                   field="metadata")
        rows: dict[str, dict[str, str]] = {}
        for row in reader:
            name = (row.get("filename") or "").strip()
            if name:
                rows[name] = {k: (v or "").strip() for k, v in row.items() if k in CSV_COLUMNS}
    return rows


def parse_authors_cell(cell: str, default_role: str) -> list[AuthorInput] | None:
    """``Name:role:share;Name2:role:share`` (role and share optional for one author)."""
    parts = [p.strip() for p in (cell or "").split(";") if p.strip()]
    if not parts:
        return None
    authors = []
    for part in parts:
        name, _sep, rest = part.partition(":")
        role, _sep, share = rest.partition(":")
        if not share.strip() and len(parts) > 1:
            raise ValidationFailed(_("Give every author's share in percent."), field="authors")
        authors.append(AuthorInput(name.strip(), role.strip() or default_role,
                                   parse_share(share.strip() or 100)))
    return authors


def list_files(folder: Path, exclude: Iterable[Path] = ()) -> list[Path]:
    """The folder's regular, non-hidden files in name order (not its subfolders)."""
    skip = {p.resolve() for p in exclude}
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.resolve() not in skip)


def import_folder(
    owner: User,
    folder: Path,
    *,
    settings: RegistrySettings,
    metadata: Mapping[str, Mapping[str, str]] | None = None,
    exclude: Iterable[Path] = (),
    on_file: Callable[[FileOutcome], None] | None = None,
    parallel: ParallelJobs | None = None,
) -> ImportSummary:
    """Register every file in ``folder`` for ``owner``; commits after each file.

    Files are taken in name order, so their registration numbers follow it. With
    ``parallel``, registration jobs run in worker threads while the next files are
    received; otherwise each job runs before the next file is read.
    """
    started = time.perf_counter()
    metadata = metadata or {}
    files = list_files(folder, exclude)
    summary = ImportSummary(missing=sorted(set(metadata) - {p.name for p in files}))

    def done(outcome: FileOutcome) -> None:
        summary.outcomes.append(outcome)
        if on_file is not None:
            on_file(outcome)

    with _JobPool(parallel) as pool:
        for path in files:
            intake = receive_file(owner, path, metadata.get(path.name, {}), settings=settings)
            if isinstance(intake, FileOutcome):
                done(intake)
            else:
                pool.submit(intake, done)
            pool.collect(done)
        pool.collect(done, wait=True)
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass(frozen=True)
class ParallelJobs:
    """Run registration jobs in ``workers`` threads, each inside ``context()`` (the
    Flask app context, which gives each thread its own database session)."""

    workers: int
    context: Callable[[], AbstractContextManager[object]]


@dataclass(frozen=True)
class _Queued:
    job_id: int
    filename: str
    registration_number: str


class _JobPool:
    """Jobs run inline without ``parallel``; with it, in a thread pool.

    Even then the first job runs alone: it may do one-time setup (publishing the
    ledger's keys on an empty ledger) that concurrent first jobs would race on.
    """

    def __init__(self, parallel: ParallelJobs | None) -> None:
        self.parallel = parallel
        self.pool = ThreadPoolExecutor(parallel.workers) if parallel else None
        self.pending: list[Future[FileOutcome]] = []
        self.first_done = False

    def __enter__(self) -> _JobPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)

    def submit(self, queued: _Queued, done: Callable[[FileOutcome], None]) -> None:
        if self.pool is None or not self.first_done:
            outcome = run_queued(queued)
            self.first_done = outcome.status in (REGISTERED, CONFLICT)
            done(outcome)
        else:
            self.pending.append(self.pool.submit(self._in_context, queued))

    def _in_context(self, queued: _Queued) -> FileOutcome:
        assert self.parallel is not None
        with self.parallel.context():
            try:
                return run_queued(queued)
            finally:
                db.session.remove()

    def collect(self, done: Callable[[FileOutcome], None], *, wait: bool = False) -> None:
        """Report finished jobs (all of them with ``wait``), in submission order."""
        while self.pending and (wait or self.pending[0].done()):
            done(self.pending.pop(0).result())


def import_file(owner: User, path: Path, row: Mapping[str, str], *,
                settings: RegistrySettings) -> FileOutcome:
    """Register one file and run its job; never raises for a bad file."""
    intake = receive_file(owner, path, row, settings=settings)
    return intake if isinstance(intake, FileOutcome) else run_queued(intake)


def receive_file(owner: User, path: Path, row: Mapping[str, str], *,
                 settings: RegistrySettings) -> _Queued | FileOutcome:
    """Register one file (committed) and return its queued job, or why it was not."""
    try:
        work = _register(owner, path, row, settings)
        job_id = db.session.scalar(select(Job.id).where(Job.work_id == work.id))
        queued = _Queued(job_id, path.name, work.registration_number)
        db.session.commit()
    except Conflict as exc:  # this owner already registered these bytes
        db.session.rollback()
        return FileOutcome(path.name, SKIPPED, exc.details.get("registration_number"),
                           str(exc.message))
    except TamgaError as exc:
        db.session.rollback()
        return FileOutcome(path.name, REJECTED, reason=str(exc.message))
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the import
        db.session.rollback()
        log.exception("bulk import of %s failed", path)
        return FileOutcome(path.name, FAILED, reason=f"internal error ({type(exc).__name__})")
    return queued


def run_queued(queued: _Queued) -> FileOutcome:
    """Run a registered file's job and say how it ended."""
    filename, number = queued.filename, queued.registration_number
    try:
        jobs.run_job(queued.job_id)
    except Exception as exc:  # noqa: BLE001 - the job stays queued for a worker to retry
        db.session.rollback()
        log.exception("registration job %s failed to run", queued.job_id)
        return FileOutcome(filename, FAILED, number, f"internal error ({type(exc).__name__})")
    db.session.expire_all()
    job = db.session.get(Job, queued.job_id)
    if job.status != JobStatus.DONE:
        return FileOutcome(filename, FAILED, number, job.error or job.error_code)
    work = db.session.get(Work, job.work_id)
    if work.status != WorkStatus.CONFLICT:
        return FileOutcome(filename, REGISTERED, number)
    earlier = ", ".join(f"{m.other_work.registration_number} ({m.kind}, score {m.score:.2f})"
                        for m in work.matches if m.is_conflict)
    return FileOutcome(filename, CONFLICT, number, f"matches earlier {earlier}")


def _register(owner: User, path: Path, row: Mapping[str, str],
              settings: RegistrySettings) -> Work:
    """``register_work`` with the CSV's kind of work, or else as a sound recording and,
    when the intake finds an image instead of audio, as a photograph.

    Guessing this way costs an image one more (cheap) sniff, while sniffing first
    would cost every audio file one more ``ffprobe``.
    """
    if row.get("work_type"):
        return _register_as(owner, path, row, row["work_type"], settings)
    try:
        return _register_as(owner, path, row, WorkType.SOUND_RECORDING.value, settings)
    except ValidationFailed as exc:
        if exc.details.get("field") != "file":
            raise
    return _register_as(owner, path, row, WorkType.PHOTOGRAPH.value, settings)


def _register_as(owner: User, path: Path, row: Mapping[str, str], work_type: str,
                 settings: RegistrySettings) -> Work:
    fields = {**row, "title": row.get("title") or title_from_filename(path),
              "work_type": work_type}
    meta = metadata_from_fields(fields, owner, _authors(row, work_type))
    with open(path, "rb") as stream:
        return register_work(owner, Upload(stream, path.name), meta, settings=settings)


def _authors(row: Mapping[str, str], work_type: str) -> list[AuthorInput] | None:
    """The CSV's authors; None lets the metadata default to the owner."""
    role = DEFAULT_ROLES[parse_enum(WorkType, work_type, "work_type")]
    return parse_authors_cell(row.get("authors", ""), role)


def title_from_filename(path: Path) -> str:
    """``01_dombra-at-dawn.mp3`` → ``01 dombra at dawn``."""
    title = " ".join(path.stem.replace("_", " ").replace("-", " ").split())
    return title or path.name
