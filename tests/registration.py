"""The one place tests register a work: through the website's form, through the API, or
straight through the service (fingerprinted synchronously).

- :func:`form_data`, :func:`post_form`, :func:`register_form` and :func:`number_from`:
  ``POST /works/new`` as a signed-in creator's browser sends it.
- :func:`post_api`, :func:`run_jobs` and :func:`register_api`: ``POST /api/v1/works``
  with a bearer token (any object with ``headers``), then the queued jobs run.
- :func:`register_file`: ``services.works.register_work`` with its job dispatched at once,
  for tests that need a registered, fingerprinted work and no request.

Media come from tests/media.py (the session-scoped ``media`` fixture).
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

#: What the registration form sends when a test says nothing else.
FORM_DEFAULTS = {
    "title": "Dombra at dawn", "work_type": "photograph", "language": "kk", "country": "KZ",
    "authors-0-full_name": "Aigerim Seitova", "authors-0-role": "photographer",
    "authors-0-share": "100", "registrant_capacity": "author", "creation": "2025",
    "ai_use": "none", "licence": "all-rights-reserved", "visibility": "public",
    "allow_thumbnail": "y", "ai_training_opt_out": "y",
}


# The website --------------------------------------------------------------------

def form_data(path: Path | None = None, **overrides) -> dict:
    """The fields of ``/works/new`` (and of the edit form), with ``path`` as the file."""
    data = dict(FORM_DEFAULTS)
    if path is not None:
        data["file"] = (io.BytesIO(path.read_bytes()), path.name)
    if "work_type" in overrides and "authors-0-role" not in overrides:
        # The role must fit the kind of work: its default, as the form pre-selects.
        from registry.models.work import WorkType
        from registry.services.work_metadata import DEFAULT_ROLES

        data["authors-0-role"] = DEFAULT_ROLES[WorkType(overrides["work_type"])]
    data.update(overrides)
    return data


def post_form(client, path: Path | None, **overrides):
    """``POST /works/new`` with :func:`form_data`; the response, whatever it is."""
    return client.post("/works/new", data=form_data(path, **overrides),
                       content_type="multipart/form-data")


def number_from(response) -> str:
    """The registration number in the redirect to the new work's page."""
    return response.headers["Location"].rsplit("/", 1)[-1]


def register_form(client, path: Path, **overrides) -> str:
    """Register ``path`` through the form (the client must be signed in); its number."""
    response = post_form(client, path, **overrides)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return number_from(response)


# The API ------------------------------------------------------------------------

def post_api(client, account, path: Path, **fields):
    """``POST /api/v1/works`` with ``account.headers``; the response, whatever it is."""
    data = {"title": "Dombra at dawn", "work_type": "photograph", **fields}
    with open(path, "rb") as fh:
        data["file"] = (fh, path.name)
        return client.post("/api/v1/works", data=data, headers=account.headers,
                           content_type="multipart/form-data")


def run_jobs(app) -> None:
    """Run every queued job, oldest first, as a worker would."""
    from sqlalchemy import select

    from registry.extensions import db
    from registry.models.job import Job, JobStatus
    from registry.tasks import runner_of

    with app.app_context():
        for job_id in db.session.scalars(select(Job.id).where(
                Job.status == JobStatus.QUEUED).order_by(Job.id)).all():
            runner_of(app).run_one(job_id)
        db.session.remove()


def register_api(client, app, account, path: Path, **fields) -> str:
    """Register ``path`` through the API and run its jobs; its number."""
    response = post_api(client, account, path, **fields)
    assert response.status_code == 201, response.get_json()
    run_jobs(app)
    return response.get_json()["registration_number"]


# The service --------------------------------------------------------------------

def register_file(app, path: Path, *, title: str, work_type: str,
                  email: str = "owner@example.kz", name: str = "Owner",
                  visibility: str = "public", allow_thumbnail: bool = True,
                  accounts=None) -> str:
    """A real registration through the service, fingerprinted synchronously. The account
    ``email`` is created with ``accounts`` when it does not exist yet."""
    from registry.extensions import db
    from registry.models.job import Job
    from registry.models.user import User
    from registry.models.work import AIUse, Visibility, WorkType
    from registry.services.work_metadata import AuthorInput, WorkMetadata
    from registry.services.works import Upload, register_work
    from registry.tasks import dispatch

    app.config["TAMGA_WORKER"] = "sync"
    with app.app_context():
        exists = db.session.scalar(db.select(User.id).filter_by(email=email))
        db.session.rollback()
    if exists is None:
        accounts.create(email, name=name)
    with app.test_request_context():
        user = db.session.scalar(db.select(User).filter_by(email=email))
        meta = WorkMetadata(
            title=title, work_type=WorkType(work_type),
            authors=[AuthorInput(name, "author", Decimal(100))], ai_use=AIUse.NONE,
            visibility=Visibility(visibility), allow_thumbnail=allow_thumbnail, country="KZ")
        with path.open("rb") as fh:
            work = register_work(user, Upload(fh, path.name), meta,
                                 settings=app.extensions["tamga.settings"])
        number = work.registration_number
        db.session.commit()
        job_id = db.session.scalar(db.select(Job.id).filter_by(work_id=work.id))
        dispatch(job_id)
        db.session.commit()
    return number
