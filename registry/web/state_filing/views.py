"""Preparing the application for Kazakhstan's state copyright register."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry.core.errors import TamgaError
from registry.extensions import db
from registry.services import state_filing, works
from registry.web.state_filing.forms import StateFilingForm
from registry.web.utils import apply_error, registry_settings

bp = Blueprint("state_filing", __name__)


def verify_url(number: str) -> str:
    return f"{registry_settings().base_url}{url_for('verify.verify', number=number)}"


@bp.get("/state-filing")
def about():
    """What the state register is, what the package holds, and where its fields come from."""
    return render_template("state_filing/about.html")


@bp.route("/works/<number>/state-filing", methods=["GET", "POST"])
@login_required
def edit(number: str):
    work = works.find_work(number)
    form = StateFilingForm()
    if request.method == "GET":
        form.load(state_filing.particulars_of(current_user, work))
    elif form.validate_on_submit():
        try:
            state_filing.save_particulars(current_user, work, form.to_particulars())
        except TamgaError as exc:
            db.session.rollback()
            apply_error(form, exc)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("state_filing.edit", number=number))
    gaps = state_filing.missing(current_user, work, verify_url(number))
    status = 422 if form.errors else 200
    return render_template("state_filing/edit.html", work=work, form=form, gaps=gaps), status


@bp.get("/works/<number>/state-filing.zip")
@login_required
def package(number: str):
    work = works.find_work(number)
    try:
        data = state_filing.prepare_package(current_user, work, verify_url=verify_url(number),
                                            settings=registry_settings())
    except state_filing.MissingParticulars:
        db.session.rollback()
        gaps = state_filing.missing(current_user, work, verify_url(number))
        form = StateFilingForm()
        form.load(state_filing.particulars_of(current_user, work))
        return render_template("state_filing/edit.html", work=work, form=form, gaps=gaps), 422
    db.session.commit()
    return zip_response(data, number)


def zip_response(data: bytes, number: str) -> Response:
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{number}-state-filing.zip"'})
