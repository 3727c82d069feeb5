"""Co-authors confirm: the owner invites, the co-author confirms or declines."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry.core.errors import TamgaError
from registry.extensions import db
from registry.services import coauthors, works
from registry.services.disputes import utc
from registry.web.coauthors.forms import AnswerForm, InviteForm
from registry.web.utils import mailer, registry_settings

bp = Blueprint("coauthors", __name__)


def context() -> coauthors.Context:
    return coauthors.Context(registry_settings(), mailer(), utc(), str(get_locale()))


def invite_form(work) -> InviteForm:
    form = InviteForm()
    form.author.choices = [(str(a.position), a.full_name) for a in work.authors]
    return form


@bp.post("/works/<number>/coauthors")
@login_required
def invite(number: str):
    work = works.get_owned_work(current_user, number)
    form = invite_form(work)
    if not form.validate_on_submit():
        flash(_("Give a valid e-mail address for the co-author."), "error")
        return redirect(url_for("works.detail", number=number, _anchor="coauthors"))
    try:
        coauthors.invite(current_user, work, int(form.author.data or -1), form.email.data,
                         context())
    except (TamgaError, ValueError) as exc:
        db.session.rollback()
        flash(str(getattr(exc, "message", _("Choose one of the listed authors."))), "error")
    else:
        db.session.commit()
        flash(_("The invitation is sent."), "success")
    return redirect(url_for("works.detail", number=number, _anchor="coauthors"))


@bp.get("/coauthors/")
@login_required
def mine():
    return render_template("coauthors/mine.html", pending=coauthors.pending_for(current_user),
                           answered=coauthors.answered_by(current_user))


@bp.get("/coauthors/<int:invitation_id>")
@login_required
def show(invitation_id: int):
    invitation = coauthors.get_invitation(current_user, invitation_id)
    return render_template("coauthors/show.html", inv=invitation, form=AnswerForm())


@bp.post("/coauthors/<int:invitation_id>/<any(confirm, decline):answer>")
@login_required
def respond(invitation_id: int, answer: str):
    invitation = coauthors.get_invitation(current_user, invitation_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return render_template("coauthors/show.html", inv=invitation, form=form), 422
    try:
        coauthors.respond(current_user, invitation, answer == "confirm", form.note.data or "",
                          context())
    except TamgaError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return render_template("coauthors/show.html", inv=invitation, form=form), exc.http_status
    db.session.commit()
    flash(_("Thank you: your confirmation is recorded in the public ledger.") if answer ==
          "confirm" else _("Your answer is recorded in the public ledger."), "success")
    return redirect(url_for("coauthors.show", invitation_id=invitation_id))
