"""Administrators' pages: the audit trail of security-relevant events."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from registry.extensions import db
from registry.services import audit

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 50


@bp.before_request
@login_required
def _admins_only():
    if not current_user.is_admin:
        abort(403)


@bp.get("/audit")
def audit_trail():
    account = request.args.get("account", "").strip()[:254]
    kind = request.args.get("kind", "")
    kind = kind if kind in audit.KINDS else ""
    page = db.paginate(audit.events_query(account=account or None, kind=kind or None),
                       per_page=PER_PAGE, error_out=False)
    return render_template("admin/audit.html", page=page, account=account, kind=kind,
                           kinds=audit.KINDS)
