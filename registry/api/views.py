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
from registry.models.job import Job
from registry.models.work import Work
from registry.services.metadata_input import metadata_from_form
from registry.services.works import Upload, register_work
from registry.tasks import dispatch

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
                         supporting=supporting)
    job_id = db.session.scalar(select(Job.id).where(Job.work_id == work.id))
    db.session.commit()
    dispatch(job_id)  # with the "sync" worker the job has run when this returns
    db.session.refresh(work)
    location = url_for("api.get_work", registration_number=work.registration_number)
    return jsonify(created_response(work)), 201, {"Location": location}


@bp.get("/works/<registration_number>")
def get_work(registration_number: str):
    number = registration_number.strip().upper()
    work = db.session.scalar(select(Work).where(Work.registration_number == number))
    if work is None:
        raise NotFound(_("No work is registered under %(number)s.", number=number))
    return jsonify(work_record(work, optional_user()))


@bp.get("/openapi.json")
def openapi():
    """The file as written (``jsonify`` would sort its keys and lose the reading order)."""
    return current_app.response_class(OPENAPI_PATH.read_bytes(), mimetype="application/json")
