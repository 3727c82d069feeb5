"""``POST /api/v1/lookup`` (is this registered?) and ``GET /api/v1/search`` (text search)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from registry import kinds
from registry.api import bp
from registry.api.serialise import rfc3339
from registry.extensions import limiter
from registry.http import absolute_url, public_url, registry_settings
from registry.http.limits import api_key, api_limit, is_exempt
from registry.services import provenance
from registry.services.lookup import (
    LookupMatch,
    LookupResult,
    lookup_sha256,
    lookup_upload,
    query_bounds,
    reading,
)
from registry.services.metadata_input import MalformedRequest
from registry.services.privacy import ANONYMOUS
from registry.services.search import SearchFilters, SearchHit, SearchPage, search_works

MAX_PAGE = 500


@bp.post("/lookup")
@limiter.limit(api_limit, key_func=api_key, exempt_when=is_exempt, scope="lookup")
def lookup():
    if request.is_json:
        with reading() as conn:
            result = lookup_sha256(conn, _sha256_from_json())
    else:
        upload = request.files.get("file")
        if upload is None:
            raise MalformedRequest(
                _("Send the file in the multipart field “file”, or JSON {\"sha256\": \"…\"}."))
        settings = registry_settings()
        result = lookup_upload(reading, upload.stream, upload_dir=settings.upload_dir,
                               limits=settings.limits, bounds=query_bounds(settings),
                               read_provenance=provenance.reader(settings))
    return jsonify(lookup_response(result)), 200, {"Server-Timing": server_timing(result)}


def server_timing(result: LookupResult) -> str:
    """Where the time went (upload, decode, fingerprint, index), in milliseconds."""
    return ", ".join(f"{name};dur={seconds * 1000:.1f}" for name, seconds in result.timings.items())


def _sha256_from_json() -> str:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("sha256"), str):
        raise MalformedRequest(_("Send a JSON object with the field “sha256”."), field="sha256")
    return body["sha256"]


@bp.get("/search")
@limiter.limit(api_limit, key_func=api_key, exempt_when=is_exempt, scope="search")
def search():
    args = request.args.to_dict()
    page = args.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
        raise MalformedRequest(_("“page” must be a whole number from 1 to %(max)d.", max=MAX_PAGE),
                               field="page")
    with reading() as conn:
        found = search_works(conn, args.get("q", ""), SearchFilters.parse(args),
                             page=int(page), per_page=20)
    return jsonify(search_response(found, args))


def lookup_response(result: LookupResult) -> dict[str, Any]:
    checked = result.checked
    summary: dict[str, Any] = {"media": checked.media, **checked.measured,
                               "works_compared": checked.works_compared,
                               "provenance": provenance.report_record(result.file_provenance)}
    return {"matches": [match_record(m) for m in result.matches], "checked": summary}


def match_record(match: LookupMatch) -> dict[str, Any]:
    work = match.work
    shown = ANONYMOUS.sees_record(work)  # lookups answer everyone alike
    record: dict[str, Any] = {
        "registration_number": work.registration_number,
        "title": work.title if shown else None,
        "work_type": work.work_type if shown else None,
        "media": work.media_kind if shown else None,
        "score": round(match.score, 4),
        "registered_at": rfc3339(work.registered_at),
        "status": work.status,
        "url": public_url(work.registration_number),
        "provenance": work.provenance,
    }
    kind = kinds.get(work.media_kind)
    if kind is not None:
        record |= kind.match_fields(match.details, match.segment)
    return record


def hit_record(hit: SearchHit) -> dict[str, Any]:
    """A search result; a private work shows only its number, time and hashes."""
    return {
        "registration_number": hit.registration_number,
        "title": hit.title,
        "original_title": hit.original_title,
        "work_type": hit.work_type if ANONYMOUS.sees_record(hit) else None,
        "media": hit.media_kind if ANONYMOUS.sees_record(hit) else None,
        "status": hit.status,
        "registered_at": rfc3339(hit.registered_at),
        "country": hit.country,
        "authors": hit.authors,
        "registrant": hit.registrant,
        "iscc": hit.iscc,
        "sha256": hit.sha256,
        "visibility": "public" if hit.is_public else "private",
        "matched_by": hit.matched_by,
        "url": public_url(hit.registration_number),
    }


def _page_url(args: dict[str, str], page: int) -> str:
    return absolute_url("api.search", **{**args, "page": page})


def search_response(found: SearchPage, args: dict[str, str]) -> dict[str, Any]:
    return {
        "query": found.query,
        "page": found.page,
        "per_page": found.per_page,
        "total": found.total,
        "total_is_lower_bound": found.total_capped,
        "pages": found.pages,
        "exact_match": found.exact_number,
        "results": [hit_record(h) for h in found.hits],
        "next": _page_url(args, found.next_num) if found.has_next else None,
        "prev": _page_url(args, found.prev_num) if found.has_prev else None,
    }
