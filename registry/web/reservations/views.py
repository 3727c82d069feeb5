"""AI-training reservations in the forms crawlers read: TDMRep, robots.txt, headers."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from registry.core.errors import TamgaError
from registry.extensions import limiter
from registry.http import registry_settings
from registry.http.limits import is_exempt, web_key, web_limit
from registry.http.reservations import apply_reservation_headers, policy_url
from registry.services import reservations
from registry.services.works import find_work

bp = Blueprint("reservations", __name__)


#: The published forms list every reserved public work: limited per address like the
#: lookups (``TAMGA_LOOKUP_LIMIT_*``), in a bucket of their own.
published_limit = limiter.shared_limit(web_limit, scope="reservations", key_func=web_key,
                                       exempt_when=is_exempt)


@bp.get("/.well-known/tdmrep.json")
@published_limit
def tdmrep():
    works = reservations.public_reserved_works(with_since=False)
    return jsonify(reservations.tdmrep(works, policy_url()))


@bp.get("/ai-training-policy.json")
@published_limit
def policy():
    document = reservations.policy_document(registry_settings().base_url, policy_url())
    return Response(jsonify(document).get_data(), mimetype="application/ld+json")


@bp.get("/robots.txt")
@published_limit
def robots():
    works = reservations.public_reserved_works(with_since=False)
    return Response(reservations.robots_txt(works), mimetype="text/plain")


def reservation_headers(response: Response) -> Response:
    """``tdm-reservation``/``tdm-policy``, ``Content-Usage`` and ``X-Robots-Tag`` on a
    reserved public work's pages, thumbnail, original and certificate."""
    number = (request.view_args or {}).get("number")
    if not number or response.status_code >= 400:
        return response
    try:
        work = find_work(number)
    except TamgaError:  # an unknown number already answered 404
        return response
    return apply_reservation_headers(response, work)
