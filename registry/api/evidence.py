"""``GET /api/v1/works/<number>/evidence.zip``: a work's evidence bundle."""

from __future__ import annotations

from flask import Response, request

from registry.api import bp
from registry.api.auth import optional_user
from registry.core.errors import NotFound
from registry.http import registry_settings
from registry.services import evidence, works
from registry.services.privacy import Viewer


@bp.get("/works/<number>/evidence.zip")
def work_evidence(number: str):
    """Public works for anyone; a private one only for its owner (or a moderator)."""
    work = works.find_work(number)
    user = optional_user()
    if not Viewer.of(user).sees_record(work) or work.ledger_index is None:
        raise NotFound("There is no such work.")
    lang = request.args.get("lang", "kk+ru").replace(" ", "+")
    data = evidence.work_bundle(work, user, lang, registry_settings())
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{number}-evidence.zip"'})
