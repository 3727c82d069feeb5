"""Provenance endpoints: Tamga's C2PA CA, credentialed copies, the reservations check."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_babel import gettext as _

from registry.api import bp
from registry.api.auth import optional_user
from registry.core import c2pa_signing
from registry.core.errors import NotFound
from registry.extensions import limiter
from registry.http import registry_settings
from registry.http.downloads import credentialed_response, may_download_credentialed
from registry.http.limits import api_key, api_limit, is_exempt
from registry.services import reservations
from registry.services.metadata_input import MalformedRequest
from registry.services.works import find_work


@bp.get("/provenance/ca.pem")
def provenance_ca():
    pem = c2pa_signing.ca_certificates_pem(registry_settings().keys_dir)
    return Response(pem, mimetype="application/x-pem-file",
                    headers={"Content-Disposition": 'inline; filename="tamga-c2pa-ca.pem"'})


@bp.get("/works/<registration_number>/credentialed")
def credentialed(registration_number: str):
    work = find_work(registration_number.strip().upper())
    if not may_download_credentialed(work, optional_user()):
        raise NotFound(_("No work is registered under %(number)s.",
                         number=work.registration_number))
    return credentialed_response(work)


@bp.post("/reservations/check")
@limiter.limit(api_limit, key_func=api_key, exempt_when=is_exempt, scope="reservations-check")
def check_reservations():
    if request.is_json:
        sha, iscc = reservations.parse_keys(request.get_json(silent=True))
        return jsonify(results=reservations.check(sha, iscc))
    upload = request.files.get("file")
    if upload is None:
        raise MalformedRequest(_("Send JSON {\"sha256\": […], \"iscc\": […]} or the multipart "
                                 "field “file”."))
    return jsonify(results=reservations.check_upload(upload.stream, registry_settings()))
