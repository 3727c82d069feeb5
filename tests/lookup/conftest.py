"""Fixtures of the lookup tests: works written straight to the database for text search,
and works registered through the real service (files, fingerprints) for file lookups."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from registry.extensions import db
from registry.models.work import (
    Visibility,
    Work,
    WorkAuthor,
    WorkFile,
    WorkStatus,
    WorkType,
    WorkVersion,
)
from tests.browser.conftest import live_app, live_server, page  # noqa: F401 - browser fixtures


class Catalogue:
    """Writes works the way registration leaves them, without fingerprinting files."""

    def __init__(self, app, accounts) -> None:
        self.app = app
        self.accounts = accounts
        self.count = 0
        self.users: dict[str, int] = {}

    def user(self, name: str) -> int:
        if name not in self.users:
            email = f"user{len(self.users)}@example.kz"
            self.users[name] = self.accounts.create(email, name=name)
        return self.users[name]

    def add(self, title: str, *, authors: tuple[str, ...] = ("Aigerim Seitova",),
            registrant: str = "Aigerim", original_title: str | None = None,
            work_type: WorkType = WorkType.SOUND_RECORDING, country: str | None = "KZ",
            status: WorkStatus = WorkStatus.REGISTERED, visibility: Visibility = Visibility.PUBLIC,
            year: int = 2026, iscc: str | None = None) -> str:
        self.count += 1
        number = f"KZ-{year}-{self.count:06d}"
        user_id = self.user(registrant)
        with self.app.app_context():
            work = Work(
                registration_number=number, registrant_id=user_id, owner_id=user_id,
                status=status, registered_at=datetime(year, 3, 1, 8, self.count % 60, tzinfo=UTC),
                title=title, original_title=original_title, work_type=work_type,
                country=country, visibility=visibility,
                media_kind="image" if work_type == WorkType.PHOTOGRAPH else "audio",
                iscc=iscc,
            )
            work.authors = [WorkAuthor(position=i, full_name=a, role="author",
                                       share=Decimal(100) / len(authors))
                            for i, a in enumerate(authors)]
            sha = hashlib.sha256(number.encode()).hexdigest()
            work.files = [WorkFile(role="main", original_name="x", sha256=sha, size=1,
                                   media_type="audio/mpeg", storage_key=f"xx/{sha}")]
            work.versions = [WorkVersion(version=1, metadata_json={}, digest="0" * 64)]
            db.session.add(work)
            db.session.commit()
        return number

    def sha256(self, number: str) -> str:
        return hashlib.sha256(number.encode()).hexdigest()


@pytest.fixture
def catalogue(app, accounts) -> Catalogue:
    return Catalogue(app, accounts)
