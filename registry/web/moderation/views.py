"""The moderators' queue: conflicts from registration and open disputes, oldest first."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry.extensions import db
from registry.services import attestations, audit, disputes, jobs, provenance, works
from registry.web.disputes.views import _labels, context
from registry.web.utils import registry_settings

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
                           open_disputes=open_disputes, labels=_labels(),
                           dead_jobs=jobs.dead_letters(),
                           mismatches=provenance.mismatch_queue())


@bp.post("/conflicts/<number>")
def open_case(number: str):
    case = disputes.open_conflict_case(current_user, works.find_work(number), context())
    db.session.commit()
    return redirect(url_for("disputes.show", dispute_id=case.id))


@bp.post("/jobs/<int:job_id>/retry")
def retry_job(job_id: int):
    """Queue a dead-letter job again (after the cause, e.g. a full disk, is fixed)."""
    works.requeue_job(job_id, current_user, audit.Where(request.remote_addr))
    db.session.commit()
    flash(_("The job is queued again."), "info")
    return redirect(url_for("moderation.queue"))


@bp.get("/attestations")
def attestation_status():
    """Each time-stamping authority and witness: how far it attested, failures, retries."""
    found, size = attestations.status(registry_settings())
    return render_template("moderation/attestations.html", attesters=found, size=size)


@bp.post("/ai-declarations/<number>/reviewed")
def ai_declaration_reviewed(number: str):
    provenance.mark_reviewed(current_user, works.find_work(number),
                             audit.Where(request.remote_addr))
    db.session.commit()
    return redirect(url_for("moderation.queue"))
