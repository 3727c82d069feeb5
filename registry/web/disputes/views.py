"""Disputes: open one from a work page or a lookup result, follow it, answer, export."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from registry.core.errors import TamgaError
from registry.extensions import db
from registry.models.dispute import DisputeKind, Outcome
from registry.services import disputes, evidence, works
from registry.web.disputes.forms import DecideForm, EvidenceForm, OpenForm
from registry.web.forms_common import choices
from registry.web.utils import apply_error, mailer, registry_settings

bp = Blueprint("disputes", __name__, url_prefix="/disputes")
bp.add_app_template_test(disputes.is_web_link, "web_link")


def context() -> disputes.Context:
    days = int(current_app.config.get("TAMGA_DISPUTE_RESPONSE_DAYS",
                                      disputes.DEFAULT_RESPONSE_DAYS))
    return disputes.Context(registry_settings(), mailer(), disputes.utc(), days)


def _open_form(work) -> OpenForm:
    form = OpenForm()
    mine = disputes.earlier_registrations(current_user, work)
    form.claimant_work.choices = choices([("", "—")] + [
        (w.registration_number, f"{w.registration_number} · {w.title}") for w in mine])
    form.later_count = disputes.later_registrations_count(current_user, work)
    if work.owner_id == current_user.id and request.method == "GET":
        form.kind.data = "external_copy"
    elif request.method == "GET" and request.args.get("kind") == "authorship":
        form.kind.data = "authorship"
    return form


def _opening(form: OpenForm) -> disputes.Opening:
    number = form.claimant_work.data
    upload = form.disputed_file.data
    return disputes.Opening(
        DisputeKind(form.kind.data), form.submission(),
        claimant_work=works.find_work(number) if number else None,
        disputed_file=disputes.Upload(upload.stream, upload.filename) if upload else None,
        keep_disputed_file=form.keep_disputed_file.data, found_url=form.found_url.data or None,
        found_platform=form.found_platform.data or None,
        found_on=form.found_on.data.isoformat() if form.found_on.data else None)


@bp.route("/new/<number>", methods=["GET", "POST"])
@login_required
def new(number: str):
    work = works.find_work(number)
    form = _open_form(work)
    status = 200
    if form.validate_on_submit():
        try:
            dispute = disputes.open_dispute(current_user, work, _opening(form), context())
        except TamgaError as exc:
            db.session.rollback()
            apply_error(form, exc)
            status = exc.http_status
        else:
            db.session.commit()
            return redirect(url_for("disputes.show", dispute_id=dispute.id))
    elif form.errors:
        status = 422
    return render_template("disputes/new.html", form=form, work=work,
                           days=context().response_days), status


@bp.get("/")
@login_required
def mine():
    return render_template("disputes/mine.html", items=disputes.disputes_of_user(current_user))


@bp.get("/<int:dispute_id>")
def show(dispute_id: int):
    return _show(disputes.get_dispute(dispute_id), EvidenceForm(), DecideForm())


def _show(dispute, form: EvidenceForm, decide_form: DecideForm, status: int = 200):
    """The dispute page; after a refused step, with the typed text and the message."""
    private = disputes.can_see_private(current_user, dispute)
    return render_template(
        "disputes/show.html", d=dispute, private=private, party=dispute.party_of(current_user),
        evidence=disputes.visible_evidence(current_user, dispute) if private else [],
        form=form, decide_form=decide_form, labels=_labels()), status


def _labels() -> dict:
    return {"outcome": disputes.OUTCOME_LABELS, "status": disputes.DISPUTE_STATUS_LABELS,
            "kind": disputes.KIND_LABELS, "event": disputes.EVENT_LABELS,
            "party": disputes.PARTY_LABELS}


@bp.post("/<int:dispute_id>/answer")
@login_required
def answer(dispute_id: int):
    return _submit(dispute_id, disputes.answer)


@bp.post("/<int:dispute_id>/evidence")
@login_required
def add_evidence(dispute_id: int):
    return _submit(dispute_id, disputes.add_evidence)


def _submit(dispute_id: int, step):
    dispute = disputes.get_dispute(dispute_id)
    form = EvidenceForm()
    if not form.validate_on_submit():
        return _show(dispute, form, DecideForm(), 422)
    try:
        step(current_user, dispute, form.submission(), context())
    except TamgaError as exc:
        db.session.rollback()
        apply_error(form, exc)
        return _show(dispute, form, DecideForm(), exc.http_status)
    db.session.commit()
    return redirect(url_for("disputes.show", dispute_id=dispute.id))


@bp.post("/<int:dispute_id>/decide")
@login_required
def decide(dispute_id: int):
    dispute = disputes.get_dispute(dispute_id)
    form = DecideForm()
    if not form.validate_on_submit():
        return _show(dispute, EvidenceForm(formdata=None), form, 422)
    try:
        disputes.decide(current_user, dispute, Outcome(form.outcome.data), form.reason.data,
                        context())
    except TamgaError as exc:
        db.session.rollback()
        apply_error(form, exc)
        return _show(dispute, EvidenceForm(formdata=None), form, exc.http_status)
    db.session.commit()
    return redirect(url_for("disputes.show", dispute_id=dispute.id))


@bp.get("/<int:dispute_id>/evidence.zip")
@login_required
def bundle(dispute_id: int):
    dispute = disputes.get_dispute(dispute_id)
    if not disputes.can_see_private(current_user, dispute):
        abort(404)
    lang = request.args.get("lang", "kk+ru").replace(" ", "+")
    data = evidence.dispute_bundle(dispute, current_user, lang, registry_settings())
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{dispute.number}-evidence.zip"'})
