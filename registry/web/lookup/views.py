"""``/search`` and ``/lookup``: parse, call a service, render."""

from __future__ import annotations

import base64

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from registry.core.errors import MediaError
from registry.extensions import db, limiter
from registry.http.limits import is_exempt, web_key, web_limit
from registry.i18n import error_message
from registry.kinds import all_kinds
from registry.services import provenance
from registry.services.lookup import (
    IDENTICAL_FILE,
    WEAK_SIMILARITY,
    lookup_sha256,
    lookup_upload,
    query_bounds,
    reading,
)
from registry.services.search import SEARCHABLE_STATUSES, SearchFilters, search_works
from registry.web.auth.forms import COUNTRY_CHOICES
from registry.web.lookup.forms import LookupForm
from registry.web.utils import registry_settings

bp = Blueprint("lookup", __name__)
PER_PAGE = 20
MAX_PAGE = 500
MEANING_LABELS = {
    IDENTICAL_FILE: _l("Identical file"),
    **{meaning: label for kind in all_kinds() for meaning, label in kind.meaning_labels.items()},
    WEAK_SIMILARITY: _l("Weak similarity"),
}


@bp.get("/search")
@limiter.limit(web_limit, key_func=web_key, exempt_when=is_exempt, scope="web-search")
def search():
    args = request.args.to_dict()
    query, filters = args.get("q", "").strip(), SearchFilters.parse(args)
    page = int(args["page"]) if args.get("page", "").isdigit() else 1
    with reading() as conn:
        found = search_works(conn, query, filters, page=min(max(page, 1), MAX_PAGE),
                             per_page=PER_PAGE)
    if found.exact_number and filters.is_empty() and page == 1:
        return redirect(url_for("public.work", number=found.exact_number))
    return render_template("lookup/search.html", found=found, query=query, filters=filters,
                           countries=COUNTRY_CHOICES[1:], statuses=SEARCHABLE_STATUSES)


@bp.get("/lookup")
def lookup_form():
    return render_template("lookup/lookup.html", form=LookupForm())


@bp.post("/lookup")
@limiter.limit(web_limit, key_func=web_key, exempt_when=is_exempt, scope="web-lookup")
def lookup():
    form = LookupForm()
    if not form.validate_on_submit():
        return render_template("lookup/lookup.html", form=form), 400
    try:
        result = _run_lookup(form)
    except MediaError as exc:
        form.file.errors = [error_message(exc)]
        return render_template("lookup/lookup.html", form=form), exc.http_status
    query_image = (base64.b64encode(result.query_thumbnail).decode("ascii")
                   if result.query_thumbnail else None)
    return render_template("lookup/result.html", result=result, query_image=query_image,
                           meanings=MEANING_LABELS, filename=_filename(form))


def _run_lookup(form: LookupForm):
    """Read only: no transaction is held while the file is fingerprinted."""
    db.session.rollback()  # e.g. the one loading the logged-in user
    if not form.file.data:
        with reading() as conn:
            return lookup_sha256(conn, form.sha256.data)
    settings = registry_settings()
    return lookup_upload(reading, form.file.data.stream, upload_dir=settings.upload_dir,
                         limits=settings.limits, want_thumbnail=True,
                         bounds=query_bounds(settings),
                         read_provenance=provenance.reader(settings))


def _filename(form: LookupForm) -> str | None:
    return getattr(form.file.data, "filename", None) or None
