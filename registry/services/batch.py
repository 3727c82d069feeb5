"""Batch upload on the website: many files, the metadata given once.

Each file becomes a registration of its own, with its own number, through the same
service as a single upload (:func:`registry.services.works.register_work`), inside
its own ``transaction()`` that the caller provides and commits. A file that is
refused rolls back alone and leaves nothing behind; the others go on. The shared
metadata is checked once before any file is taken, so a mistake there (shares that
do not add up, a rights holder without a basis) stops the batch before it starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace

from flask_babel import lazy_gettext as _l

from registry.core.errors import Conflict, TamgaError, ValidationFailed
from registry.i18n import error_message
from registry.models.user import User
from registry.services.bulk_import import title_from_filename
from registry.services.settings import RegistrySettings
from registry.services.work_metadata import WorkMetadata, validate_metadata
from registry.services.works import Upload, register_work

log = logging.getLogger(__name__)
MAX_BATCH_FILES = 100
#: One file's outcome: it got a number, it was refused (a duplicate of the
#: account's own registration, or a file that cannot be registered), or it failed.
REGISTERED, DUPLICATE, REJECTED, FAILED = "registered", "duplicate", "rejected", "failed"

Transaction = Callable[[], AbstractContextManager[object]]


@dataclass(frozen=True)
class BatchFile:
    upload: Upload
    title: str = ""


@dataclass(frozen=True)
class BatchResult:
    filename: str
    title: str
    outcome: str
    registration_number: str | None = None
    message: str | None = None


def title_for(item: BatchFile) -> str:
    from pathlib import Path

    return (item.title or "").strip() or title_from_filename(Path(item.upload.filename or "file"))


def explain(exc: TamgaError) -> str:
    """The error in the reader's language (core errors carry a reason translated here)."""
    return error_message(exc)


def check_batch(files: Sequence[BatchFile], metadata: WorkMetadata) -> None:
    """Refuse an empty or too large batch, or shared metadata no file could pass."""
    if not files:
        raise ValidationFailed(_l("Choose at least one file."), field="files")
    if len(files) > MAX_BATCH_FILES:
        raise ValidationFailed(_l("At most %(n)d files in one batch.", n=MAX_BATCH_FILES),
                               field="files")
    validate_metadata(replace(metadata, title="-"))


def register_batch(actor: User, files: Sequence[BatchFile], metadata: WorkMetadata, *,
                   settings: RegistrySettings, transaction: Transaction,
                   confirm_ai_declaration: bool = False) -> list[BatchResult]:
    """Register every file with ``metadata`` and its own title; one result per file."""
    check_batch(files, metadata)
    results = []
    for item in files:
        title = title_for(item)
        name = item.upload.filename or "file"
        try:
            with transaction():
                work = register_work(actor, item.upload, replace(metadata, title=title),
                                     settings=settings,
                                     confirm_ai_declaration=confirm_ai_declaration)
                number = work.registration_number
        except Conflict as exc:  # this account already registered these bytes
            results.append(BatchResult(name, title, DUPLICATE,
                                       exc.details.get("registration_number"),  # type: ignore[arg-type]
                                       explain(exc)))
        except TamgaError as exc:
            results.append(BatchResult(name, title, REJECTED, message=explain(exc)))
        except Exception:  # noqa: BLE001 - one bad file must not stop the batch
            log.exception("batch upload of %s failed", name)
            results.append(BatchResult(name, title, FAILED, message=str(
                _l("An internal error stopped this file; nothing of it was kept."))))
        else:
            results.append(BatchResult(name, title, REGISTERED, number))
        finally:
            item.upload.stream.close()  # its spooled copy is not needed any more
    return results
