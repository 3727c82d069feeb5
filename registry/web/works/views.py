"""The creator's side: register a work, see and manage one's works."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry import tasks
from registry.core.errors import TamgaError
from registry.extensions import db
from registry.services import works
from registry.services.work_metadata import DEFAULT_ROLES
from registry.web.utils import apply_error, registry_settings
from registry.web.works.forms import (
    AmendForm,
    RegistrationForm,
    TransferForm,
    WithdrawForm,
)

bp = Blueprint("works", __name__, url_prefix="/works")


@bp.before_request
@login_required
def _require_login():
    """Every page here belongs to a logged-in creator."""


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = RegistrationForm()
    if request.method == "GET":
        _prefill_author(form)
    if form.validate_on_submit():
        try:
            uploads = [works.Upload(f.stream, f.filename) for f in form.supporting.data or [] if f]
            work = works.register_work(
                current_user, works.Upload(form.file.data.stream, form.file.data.filename),
                form.to_metadata(), settings=registry_settings(), supporting=uploads)
        except TamgaError as exc:
            db.session.rollback()
            apply_error(form, exc, default_field="file")
            return render_template("works/new.html", form=form), exc.http_status
        job = works.latest_job(work)
        db.session.commit()
        tasks.dispatch(job.id)
        return redirect(url_for("works.detail", number=work.registration_number))
    status = 422 if form.errors else 200
    return render_template("works/new.html", form=form), status


def _prefill_author(form: RegistrationForm) -> None:
    author = form.authors.entries[0]
    author.full_name.data = current_user.legal_name_cyrillic or current_user.display_name
    author.role.data = DEFAULT_ROLES[form.work_type.choices[0].value]


@bp.get("/")
def mine():
    q, status = request.args.get("q", ""), request.args.get("status", "")
    page = db.paginate(works.owned_works_query(current_user, q=q, status=status),
                       per_page=20, error_out=False)
    return render_template("works/mine.html", page=page, q=q, status=status,
                           transfers=works.incoming_transfers(current_user))


@bp.get("/<number>")
def detail(number: str):
    work = works.get_owned_work(current_user, number)
    return render_template("works/detail.html", work=work, job=works.latest_job(work),
                           withdraw_form=WithdrawForm(), transfer_form=TransferForm(),
                           transfers=works.pending_transfers(work))


@bp.get("/<number>/status.json")
def status(number: str):
    work = works.get_owned_work(current_user, number)
    job = works.latest_job(work)
    return jsonify(status=work.status.value, progress=job.progress if job else 100,
                   stage=job.stage if job else None,
                   error=job.error if job and job.error else None)


@bp.post("/<number>/retry")
def retry(number: str):
    job = works.retry_processing(current_user, works.find_work(number))
    db.session.commit()
    tasks.dispatch(job.id)
    flash(_("Processing was started again."), "info")
    return redirect(url_for("works.detail", number=number))


@bp.route("/<number>/edit", methods=["GET", "POST"])
def edit(number: str):
    work = works.get_owned_work(current_user, number)
    form = AmendForm(obj=work) if request.method == "GET" else AmendForm()
    if request.method == "GET":
        form.load_work(work)
    if form.validate_on_submit():
        try:
            works.amend_work(current_user, work, form.to_metadata(), note=form.note.data,
                             settings=registry_settings())
        except TamgaError as exc:
            db.session.rollback()
            apply_error(form, exc)
        else:
            db.session.commit()
            flash(_("A new version of the metadata is saved."), "success")
            return redirect(url_for("works.detail", number=number))
    return render_template("works/edit.html", form=form, work=work)


@bp.post("/<number>/withdraw")
def withdraw(number: str):
    form = WithdrawForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for the withdrawal."), "error")
        return redirect(url_for("works.detail", number=number))
    works.withdraw_work(current_user, works.find_work(number), form.reason.data,
                        settings=registry_settings())
    db.session.commit()
    flash(_("The registration is withdrawn. It stays in the register, marked withdrawn."), "info")
    return redirect(url_for("works.detail", number=number))


@bp.post("/<number>/transfer")
def transfer(number: str):
    form = TransferForm()
    if form.validate_on_submit():
        try:
            works.offer_transfer(current_user, works.find_work(number), form.email.data)
        except TamgaError as exc:
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("The transfer is offered; it happens when the recipient accepts."), "info")
    return redirect(url_for("works.detail", number=number))


@bp.post("/transfers/<int:transfer_id>/<any(accept, decline):answer>")
def answer_transfer(transfer_id: int, answer: str):
    done = works.answer_transfer(current_user, transfer_id, answer == "accept",
                                 settings=registry_settings())
    db.session.commit()
    flash(_("You are now the owner of this work.") if answer == "accept"
          else _("You declined the transfer."), "info")
    number = done.work.registration_number
    return redirect(url_for("works.detail", number=number) if answer == "accept"
                    else url_for("works.mine"))


@bp.get("/<number>/files/<int:file_id>")
def download(number: str, file_id: int):
    from flask import send_file

    work = works.get_owned_work(current_user, number)
    item = next((f for f in work.files if f.id == file_id), None)
    if item is None:
        abort(404)
    return send_file(registry_settings().store.path(item.storage_key),
                     mimetype=item.media_type, as_attachment=True,
                     download_name=item.original_name)
