"""Registering every file of a folder for one owner (``flask works import``).

Each file goes through the same service as a web upload
(:func:`registry.services.works.register_work`) in a transaction of its own, which
the caller (the command) provides and commits, so one bad file never loses the
others; then the registration jobs run through the job runner (``run_jobs``).
Metadata comes from an optional CSV::

    filename,title,work_type,created_on,authors,ai_use,description,visibility
    dombra.mp3,Dombra at dawn,sound_recording,2025,Aigerim S:performer:100,none,,public

``authors`` is ``Name:role:share`` separated by ``;``. Without a row the title is
made from the file name and the kind of work is guessed from the content
(each media kind's default: audio → sound recording, image → photograph).
"""

from __future__ import annotations

import csv
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from registry import kinds
from registry.core.errors import Conflict, TamgaError, ValidationFailed
from registry.extensions import db
from registry.models.job import Job, JobStatus
from registry.models.user import User
from registry.models.work import Work, WorkStatus, WorkType
from registry.services.metadata_input import metadata_from_fields, parse_enum
from registry.services.rows import must_get
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


Transaction = Callable[[], AbstractContextManager[object]]
RunJobs = Callable[[list[int], int, Callable[[int], "FileOutcome"]], Iterable["FileOutcome"]]


def import_folder(
    owner: User,
    folder: Path,
    *,
    settings: RegistrySettings,
    transaction: Transaction,
    run_jobs: RunJobs,
    metadata: Mapping[str, Mapping[str, str]] | None = None,
    exclude: Iterable[Path] = (),
    on_file: Callable[[FileOutcome], None] | None = None,
    workers: int = 1,
) -> ImportSummary:
    """Register every file in ``folder`` for ``owner``, then run their jobs.

    Files are taken in name order, so their registration numbers follow it. Each
    file is registered inside ``transaction()`` (the caller commits it, or rolls it
    back on an error). ``run_jobs(ids, threads, outcome)`` runs jobs and yields
    ``outcome(job_id)`` for each, in order; the first job runs alone, since it may do
    one-time setup (publishing the ledger's keys on an empty ledger) that concurrent
    first jobs would race on.
    """
    started = time.perf_counter()
    metadata = metadata or {}
    files = list_files(folder, exclude)
    summary = ImportSummary(missing=sorted(set(metadata) - {p.name for p in files}))

    def done(outcome: FileOutcome) -> None:
        summary.outcomes.append(outcome)
        if on_file is not None:
            on_file(outcome)

    queued: dict[int, _Queued] = {}
    for path in files:
        intake = receive_file(owner, path, metadata.get(path.name, {}), settings=settings,
                              transaction=transaction)
        if isinstance(intake, FileOutcome):
            done(intake)
        else:
            queued[intake.job_id] = intake
    ids = list(queued)
    for batch, threads in ((ids[:1], 1), (ids[1:], workers)):
        for outcome in run_jobs(batch, threads, lambda job_id: job_outcome(queued[job_id])):
            done(outcome)
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass(frozen=True)
class _Queued:
    job_id: int
    filename: str
    registration_number: str


def receive_file(owner: User, path: Path, row: Mapping[str, str], *,
                 settings: RegistrySettings, transaction: Transaction) -> _Queued | FileOutcome:
    """Register one file in its own transaction and return its queued job, or why not."""
    try:
        with transaction():
            work = _register(owner, path, row, settings)
            job_id = db.session.scalars(select(Job.id).where(Job.work_id == work.id)).one()
            queued = _Queued(job_id, path.name, work.registration_number)
    except Conflict as exc:  # this owner already registered these bytes
        number = exc.details.get("registration_number")
        return FileOutcome(path.name, SKIPPED, str(number) if number else None, str(exc.message))
    except TamgaError as exc:
        return FileOutcome(path.name, REJECTED, reason=str(exc.message))
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the import
        log.exception("bulk import of %s failed", path)
        return FileOutcome(path.name, FAILED, reason=f"internal error ({type(exc).__name__})")
    return queued


def job_outcome(queued: _Queued) -> FileOutcome:
    """How a registered file's job ended."""
    filename, number = queued.filename, queued.registration_number
    job = must_get(Job, queued.job_id)
    if job.status != JobStatus.DONE:
        return FileOutcome(filename, FAILED, number, job.error or job.error_code)
    work = must_get(Work, job.work_id)
    if work.status != WorkStatus.CONFLICT:
        return FileOutcome(filename, REGISTERED, number)
    earlier = ", ".join(f"{m.other_work.registration_number} ({m.kind}, score {m.score:.2f})"
                        for m in work.matches if m.is_conflict)
    return FileOutcome(filename, CONFLICT, number, f"matches earlier {earlier}")


def _register(owner: User, path: Path, row: Mapping[str, str],
              settings: RegistrySettings) -> Work:
    """``register_work`` with the CSV's kind of work, or else with each media kind's
    default kind of work in turn (audio: a sound recording, image: a photograph...)
    until the intake accepts the file.

    Guessing this way costs an image one more (cheap) sniff, while sniffing first
    would cost every audio file one more ``ffprobe``.
    """
    if row.get("work_type"):
        return _register_as(owner, path, row, row["work_type"], settings)
    guesses = [kind.default_work_type for kind in kinds.all_kinds() if kind.default_work_type]
    for work_type in guesses[:-1]:
        try:
            return _register_as(owner, path, row, work_type, settings)
        except ValidationFailed as exc:
            if exc.details.get("field") != "file":
                raise
    return _register_as(owner, path, row, guesses[-1], settings)


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
