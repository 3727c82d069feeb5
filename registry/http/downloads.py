"""Downloads the website and the API both serve (same bytes, same rules)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, url_for

from registry.http import public_url, registry_settings
from registry.http.reservations import apply_reservation_headers
from registry.models.work import Work
from registry.services import certificates, provenance


def may_download_credentialed(work: Work, viewer) -> bool:
    if viewer is not None and viewer.id == work.owner_id:
        return True
    return work.is_public and work.publish_original


def credentialed_response(work: Work) -> Response:
    data = provenance.credentialed_copy(work, registry_settings(),
                                        public_url(work.registration_number))
    main = work.main_file
    stem = main.original_name.rsplit(".", 1)
    name = f"{stem[0]}-{work.registration_number}-credentialed" + (
        f".{stem[1]}" if len(stem) == 2 else "")
    response = Response(data, mimetype=main.media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(name)}"})
    return apply_reservation_headers(response, work)


def _quote(name: str) -> str:
    return quote(name, safe="")


def certificate_response(work: Work, lang: str | None) -> Response:
    """The signed certificate PDF, ``lang`` one or two codes joined by ``+`` (kk+ru by
    default; a ``+`` in a query string arrives as a space)."""
    lang = (lang or "kk+ru").strip().replace(" ", "+")
    settings = registry_settings()
    # From the configured address, never the request's Host header: it is signed.
    number = work.registration_number
    verify_url = f"{settings.base_url}{url_for('verify.verify', number=number)}"
    pdf = certificates.render(work, lang, verify_url, settings)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{number}-certificate-{lang}.pdf"'})
