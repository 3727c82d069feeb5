"""The JSON API's endpoints: parse, call a service, serialise."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from registry.api import bp
from registry.api.auth import optional_user, required_user
from registry.api.serialise import created_response, work_record
from registry.core.errors import NotFound, ValidationFailed
from registry.extensions import db
from registry.http.downloads import certificate_response
from registry.models.work import Work
from registry.services.metadata_input import metadata_from_form, parse_bool
from registry.services.privacy import Viewer
from registry.services.works import Upload, register_work

OPENAPI_PATH = Path(__file__).with_name("openapi.json")


@bp.post("/works")
def create_work():
    user = required_user()
    main = request.files.get("file")
    if main is None:
        raise ValidationFailed(_("The field “file” is required."), field="file")
    metadata = metadata_from_form(request.form, user)
    supporting = [Upload(f.stream, f.filename or "supporting")
                  for f in request.files.getlist("supporting")]
    work = register_work(user, Upload(main.stream, main.filename or "upload"), metadata,
                         settings=current_app.extensions["tamga.settings"],
                         supporting=supporting,
                         confirm_ai_declaration=parse_bool(
                             request.form.get("confirm_ai_declaration"),
                             "confirm_ai_declaration", False))
    invite_coauthors(user, work, metadata)
    db.session.commit()  # queues the job; with the "sync" worker it has run when this returns
    db.session.refresh(work)
    location = url_for("api.get_work", registration_number=work.registration_number)
    return jsonify(created_response(work)), 201, {"Location": location}


def invite_coauthors(user, work: Work, metadata) -> None:
    """Authors listed with an ``email`` are asked to confirm, in this transaction."""
    from flask_babel import get_locale

    from registry.services import coauthors
    from registry.services.disputes import utc

    emails = {i: a.email for i, a in enumerate(metadata.authors) if a.email}
    if emails:
        ctx = coauthors.Context(current_app.extensions["tamga.settings"],
                                current_app.extensions["tamga.outbox"], utc(),
                                str(get_locale()))
        coauthors.invite_listed(user, work, emails, ctx)


def _work(registration_number: str) -> Work:
    number = registration_number.strip().upper()
    work = db.session.scalar(select(Work).where(Work.registration_number == number))
    if work is None:
        raise NotFound(_("No work is registered under %(number)s.", number=number))
    return work


@bp.get("/works/<registration_number>")
def get_work(registration_number: str):
    return jsonify(work_record(_work(registration_number), optional_user()))


@bp.get("/works/<registration_number>/certificate.pdf")
def get_certificate(registration_number: str):
    """Public works to anyone; a private one only to its owner (and moderators): to
    everyone else it does not exist, as on the website."""
    work = _work(registration_number)
    if not Viewer.of(optional_user()).sees_record(work):
        raise NotFound(_("No work is registered under %(number)s.",
                         number=work.registration_number))
    return certificate_response(work, request.args.get("lang"))


@bp.get("/openapi.json")
def openapi():
    """The file as written (``jsonify`` would sort its keys and lose the reading order)."""
    return current_app.response_class(OPENAPI_PATH.read_bytes(), mimetype="application/json")
