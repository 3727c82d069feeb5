"""Public pages of registered works: anyone may look, nobody needs an account."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request, send_file, url_for
from flask_login import current_user

from registry.services import certificates, works
from registry.web.utils import registry_settings

bp = Blueprint("public", __name__)


def _can_see_everything(work) -> bool:
    return current_user.is_authenticated and (
        current_user.id == work.owner_id or current_user.is_moderator)


@bp.get("/w/<number>")
def work(number: str):
    found = works.find_work(number)
    full = found.is_public or _can_see_everything(found)
    return render_template("public/work.html", work=found, full=full,
                           is_owner=_can_see_everything(found))


@bp.get("/w/<number>/thumbnail.jpg")
def thumbnail(number: str):
    found = works.find_work(number)
    if not (found.thumbnail_key and found.allow_thumbnail
            and (found.is_public or _can_see_everything(found))):
        abort(404)
    return send_file(registry_settings().store.path(found.thumbnail_key), mimetype="image/jpeg",
                     max_age=3600)


@bp.get("/w/<number>/certificate.pdf")
def certificate(number: str):
    found = _certifiable(number)
    lang = request.args.get("lang", "kk+ru").replace(" ", "+")  # "+" arrives as a space
    settings = registry_settings()
    # From the configured address, never the request's Host header: it is signed.
    verify_url = f"{settings.base_url}{url_for('verify.verify', number=number)}"
    pdf = certificates.render(found, lang, verify_url, settings)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{number}-certificate-{lang}.pdf"'})


@bp.get("/w/<number>/proof.json")
def proof(number: str):
    return jsonify(certificates.proof_bundle(_certifiable(number)))


def _certifiable(number: str):
    """Public works to anyone; private ones only to their owner (and moderators)."""
    found = works.find_work(number)
    if not (found.is_public or _can_see_everything(found)):
        abort(404)
    return found


@bp.get("/w/<number>/original")
def original(number: str):
    found = works.find_work(number)
    if not (found.publish_original and found.is_public) and not _can_see_everything(found):
        abort(404)
    main = found.main_file
    return send_file(registry_settings().store.path(main.storage_key), mimetype=main.media_type,
                     as_attachment=True, download_name=main.original_name)
