"""``GET /api/v1/works/<number>/state-filing.zip``: the owner's state register application."""

from __future__ import annotations

from flask import Response, current_app, url_for

from registry.api import bp
from registry.api.auth import required_user
from registry.extensions import db
from registry.services import state_filing, works


@bp.get("/works/<registration_number>/state-filing.zip")
def work_state_filing(registration_number: str):
    """The ZIP, or 422 with ``error.missing`` listing the form's fields still to add."""
    number = registration_number.strip().upper()
    user = required_user()
    settings = current_app.extensions["tamga.settings"]
    verify = f"{settings.base_url}{url_for('verify.verify', number=number)}"
    data = state_filing.prepare_package(user, works.find_work(number), verify_url=verify,
                                        settings=settings)
    db.session.commit()
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{number}-state-filing.zip"'})
