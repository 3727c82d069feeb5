"""Personal API tokens on the profile: create (shown once), list, revoke."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry.core.errors import TamgaError
from registry.extensions import db
from registry.i18n import error_message
from registry.services import audit, tokens
from registry.web.tokens.forms import CreateTokenForm, RevokeTokenForm
from registry.web.utils import apply_error

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    form = CreateTokenForm()
    created = None
    if form.validate_on_submit():
        try:
            created = tokens.create_token(current_user, form.name.data,
                                          where=audit.Where(request.remote_addr))
        except TamgaError as exc:
            apply_error(form, exc)
        else:
            db.session.commit()
            form = CreateTokenForm(formdata=None)
    return render_template("tokens/index.html", form=form, created=created,
                           tokens=tokens.list_tokens(current_user), revoke_form=RevokeTokenForm())


@bp.post("/revoke")
@login_required
def revoke():
    form = RevokeTokenForm()
    if form.validate_on_submit() and form.token_id.data.isdigit():
        try:
            token = tokens.revoke_token(current_user, int(form.token_id.data),
                                        where=audit.Where(request.remote_addr))
        except TamgaError as exc:
            flash(error_message(exc), "error")
        else:
            db.session.commit()
            flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(url_for("tokens.index"))
