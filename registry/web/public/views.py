"""Public pages of registered works: anyone may look, nobody needs an account."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, request, send_file
from flask_login import current_user

from registry.http.downloads import certificate_response
from registry.services import certificates, works
from registry.services.privacy import Viewer
from registry.web.reservations.views import reservation_headers
from registry.web.utils import registry_settings

bp = Blueprint("public", __name__)
bp.after_request(reservation_headers)  # AI-training reservations


def _viewer() -> Viewer:
    return Viewer.of(current_user)


def _can_see_everything(work) -> bool:
    return _viewer().sees_all(work)


@bp.get("/w/<number>")
def work(number: str):
    found = works.find_work(number)
    full = _viewer().sees_record(found)
    return render_template("public/work.html", work=found, full=full,
                           is_owner=_can_see_everything(found))


@bp.get("/w/<number>/thumbnail.jpg")
def thumbnail(number: str):
    found = works.find_work(number)
    if not _viewer().sees_thumbnail(found):
        abort(404)
    return send_file(registry_settings().store.path(found.thumbnail_key), mimetype="image/jpeg",
                     max_age=3600)


@bp.get("/w/<number>/keyframes/<int:index>.jpg")
def key_frame(number: str, index: int):
    """A video's key frame: to its owner (and moderators) always, to others where the
    owner allows thumbnails of a public work."""
    found = works.find_work(number)
    frames = found.key_frames or []
    allowed = _can_see_everything(found) or (found.allow_thumbnail and found.is_public)
    if not allowed or not 0 <= index < len(frames):
        abort(404)
    return send_file(registry_settings().store.path(frames[index]["key"]),
                     mimetype="image/jpeg", max_age=3600)


@bp.get("/w/<number>/certificate.pdf")
def certificate(number: str):
    return certificate_response(_certifiable(number), request.args.get("lang"))


@bp.get("/w/<number>/proof.json")
def proof(number: str):
    return jsonify(certificates.proof_bundle(_certifiable(number), registry_settings()))


def _certifiable(number: str):
    """Public works to anyone; private ones only to their owner (and moderators)."""
    found = works.find_work(number)
    if not _viewer().sees_record(found):
        abort(404)
    return found


@bp.get("/w/<number>/original")
def original(number: str):
    found = works.find_work(number)
    if not _viewer().sees_original(found):
        abort(404)
    main = found.main_file
    return send_file(registry_settings().store.path(main.storage_key), mimetype=main.media_type,
                     as_attachment=True, download_name=main.original_name)
