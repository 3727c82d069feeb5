"""``GET /api/v1/works/<number>/evidence.zip``: a work's evidence bundle (issue 8)."""

from __future__ import annotations

from flask import Response, request

from registry.api import bp
from registry.api.auth import optional_user
from registry.core.errors import NotFound
from registry.services import evidence, works
from registry.web.utils import registry_settings


@bp.get("/works/<number>/evidence.zip")
def work_evidence(number: str):
    """Public works for anyone; a private one only for its owner (or a moderator)."""
    work = works.find_work(number)
    user = optional_user()
    allowed = work.is_public or (user is not None and (
        user.id == work.owner_id or user.is_moderator))
    if not allowed or work.ledger_index is None:
        raise NotFound("There is no such work.")
    lang = request.args.get("lang", "kk+ru").replace(" ", "+")
    data = evidence.work_bundle(work, user, lang, registry_settings())
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{number}-evidence.zip"'})
