"""The moderators' queue: conflicts from registration and open disputes, oldest first."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from registry.extensions import db
from registry.services import disputes, works
from registry.web.disputes.views import _labels, context

bp = Blueprint("moderation", __name__, url_prefix="/moderation")


@bp.before_request
@login_required
def _moderators_only():
    if not current_user.is_moderator:
        abort(403)


@bp.get("/")
def queue():
    conflicts, open_disputes = disputes.queue()
    return render_template("moderation/queue.html", conflicts=conflicts,
                           open_disputes=open_disputes, labels=_labels())


@bp.post("/conflicts/<number>")
def open_case(number: str):
    case = disputes.open_conflict_case(current_user, works.find_work(number), context())
    db.session.commit()
    return redirect(url_for("disputes.show", dispute_id=case.id))
