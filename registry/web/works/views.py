"""The creator's side: register a work, see and manage one's works."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry.core.errors import TamgaError
from registry.extensions import db, limiter
from registry.http.downloads import credentialed_response
from registry.http.limits import is_exempt, web_key, web_limit
from registry.i18n import error_message
from registry.services import coauthors, match_alerts, provenance, receipts, works
from registry.services.evidence import compare_registrations
from registry.services.work_metadata import DEFAULT_ROLES
from registry.web.coauthors.views import context as coauthor_context
from registry.web.labels import provenance_summary
from registry.web.utils import absolute_url, apply_error, mailer, registry_settings
from registry.web.works.forms import (
    AmendForm,
    BatchForm,
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
                form.to_metadata(current_user), settings=registry_settings(), supporting=uploads,
                confirm_ai_declaration=form.confirm_ai_declaration.data)
            coauthors.invite_listed(current_user, work, form.coauthor_emails(), coauthor_context())
        except TamgaError as exc:
            db.session.rollback()
            apply_error(form, exc, default_field="file")
            form.fit_roles()
            return render_template("works/new.html", form=form,
                                   precheck_max=provenance.precheck_limit(registry_settings()),
                                   ai_mismatch=exc.code == "ai_declaration_mismatch"), \
                exc.http_status
        db.session.commit()  # the job starts once this commits
        return redirect(url_for("works.detail", number=work.registration_number))
    status = 422 if form.errors else 200
    form.fit_roles()
    return render_template("works/new.html", form=form,
                           precheck_max=provenance.precheck_limit(registry_settings())), status


@bp.post("/new/provenance")
@limiter.limit(web_limit, key_func=web_key, exempt_when=is_exempt, scope="web-precheck")
def precheck():
    """The registration form's pre-check (static/js/register.js): what the chosen file
    declares about AI, and which declarations contradict it. Nothing is stored."""
    upload = request.files.get("file")
    if upload is None:
        return jsonify(error={"code": "no_file", "message": _("Choose a file.")}), 400
    try:
        report = provenance.precheck_upload(upload.stream, registry_settings())
    except TamgaError as exc:
        return jsonify(error={"code": exc.code, "message": error_message(exc)}), exc.http_status
    answer = provenance.precheck_answer(report)
    return jsonify({**answer, "summary": provenance_summary(answer["provenance"])})


@bp.route("/batch", methods=["GET", "POST"])
def batch():
    """Many files with shared metadata; each file is a registration of its own."""
    from registry.commands.common import transaction
    from registry.services.batch import register_batch

    form = BatchForm()
    if request.method == "GET":
        _prefill_author(form)
    if form.validate_on_submit():
        try:
            results = register_batch(
                current_user, form.batch_files(request.form.getlist("titles")),
                form.to_metadata(current_user), settings=registry_settings(),
                transaction=transaction, confirm_ai_declaration=form.confirm_ai_declaration.data)
        except TamgaError as exc:
            apply_error(form, exc, default_field="files")
        else:
            return render_template("works/batch_results.html", results=results,
                                   statuses=works.statuses_of(results))
    form.fit_roles()
    return render_template("works/batch.html", form=form), 422 if form.errors else 200


def _prefill_author(form: RegistrationForm | BatchForm) -> None:
    author = form.authors.entries[0]
    author.full_name.data = current_user.legal_name_cyrillic or current_user.display_name
    author.role.data = DEFAULT_ROLES[form.chosen_type()]
    form.ai_training_opt_out.data = current_user.ai_training_opt_out_default


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
                           transfers=works.pending_transfers(work),
                           later=match_alerts.later_matches(work),
                           dispute_about=match_alerts.dispute_about)


@bp.get("/<number>/later/<later_number>")
def later_match(number: str, later_number: str):
    """The owner compares their work with a later registration that matched it."""
    work = works.get_owned_work(current_user, number)
    later = works.find_work(later_number)
    match = match_alerts.find_later_match(work, later)
    if match is None:
        abort(404)
    return render_template("works/later_match.html", work=work, later=later, match=match,
                           comparison=compare_registrations(work, later),
                           dispute=match_alerts.dispute_about(match))


@bp.get("/<number>/status.json")
def status(number: str):
    work = works.get_owned_work(current_user, number)
    job = works.latest_job(work)
    return jsonify(status=work.status.value, progress=job.progress if job else 100,
                   stage=job.stage if job else None,
                   error=job.error if job and job.error else None)


@bp.get("/<number>/receipt.json")
def receipt(number: str):
    """The signed receipt given at submission, as issued (check it with tamga-verify)."""
    found = receipts.receipt_of(works.get_owned_work(current_user, number))
    return Response(found.document, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{number}-receipt.json"'})


@bp.post("/<number>/retry")
def retry(number: str):
    works.retry_processing(current_user, works.find_work(number))
    db.session.commit()
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
            works.amend_work(current_user, work, form.to_metadata(current_user),
                             note=form.note.data, settings=registry_settings())
            coauthors.invite_listed(current_user, work, form.coauthor_emails(), coauthor_context())
        except TamgaError as exc:
            db.session.rollback()
            apply_error(form, exc)
        else:
            db.session.commit()
            flash(_("A new version of the metadata is saved."), "success")
            return redirect(url_for("works.detail", number=number))
    form.fit_roles()
    return render_template("works/edit.html", form=form, work=work), 422 if form.errors else 200


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
            works.offer_transfer(current_user, works.find_work(number), form.email.data,
                                 mailer=mailer(), link=absolute_url("works.mine"))
        except TamgaError as exc:
            flash(error_message(exc), "error")
        else:
            db.session.commit()
            flash(_("The transfer is offered to %(email)s. If a confirmed account uses this "
                    "address, its owner is told by e-mail; the transfer happens when they "
                    "accept.", email=form.email.data.strip().lower()), "info")
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


@bp.get("/<number>/credentialed")
def credentialed(number: str):
    """The owner's copy with Tamga Content Credentials (same as the API's)."""
    return credentialed_response(works.get_owned_work(current_user, number))
