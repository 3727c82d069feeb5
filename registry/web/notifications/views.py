"""Every user's notifications."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from registry.extensions import db
from registry.services import notifications
from registry.services.disputes import utc

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required
def index():
    items = notifications.for_user(current_user)
    return render_template("notifications/index.html", items=items,
                           message=notifications.message, link_labels=notifications.link_labels())


@bp.post("/read")
@login_required
def mark_read():
    notifications.mark_all_read(current_user, utc())
    db.session.commit()
    return redirect(url_for("notifications.index"))


def unread_count() -> int:
    """For the navigation bar: the logged-in user's unread notifications."""
    if not current_user.is_authenticated:
        return 0
    return notifications.unread_count(current_user)
