"""Your data: what is kept, an export as a ZIP, deleting the account."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, logout_user

from registry.core.errors import TamgaError
from registry.extensions import db
from registry.services import account_data, certificates
from registry.web.account.forms import DeleteAccountForm
from registry.web.utils import apply_error, registry_settings

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.before_request
@login_required
def _require_login():
    """Only the account holder sees or deletes their data."""


def _page(form: DeleteAccountForm, status: int = 200):
    return render_template("account/data.html", form=form,
                           works=len(account_data.owned_works(current_user)),
                           disputes=account_data.disputes_of(current_user)), status


@bp.get("/data")
def data():
    return _page(DeleteAccountForm())


@bp.get("/export.zip")
def export():
    settings = registry_settings()

    def certificate(work) -> bytes:
        verify = f"{settings.base_url}{url_for('verify.verify', number=work.registration_number)}"
        return certificates.render(work, "kk+ru", verify, settings)

    now = datetime.now(UTC)
    payload = account_data.export_zip(current_user, settings, certificate, now)
    name = f"tamga-account-{current_user.id}-{now:%Y%m%d}.zip"
    return Response(payload, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/delete")
def delete():
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        withdrawn = account_data.delete_account(current_user, form.password.data,
                                                settings=registry_settings(),
                                                now=datetime.now(UTC))
    except TamgaError as exc:
        db.session.rollback()
        apply_error(form, exc)
        return _page(form, exc.http_status)
    db.session.commit()
    logout_user()
    flash(_("Your account is deleted.") + " " + ngettext(
        "%(num)d work was withdrawn.", "%(num)d works were withdrawn.", withdrawn), "info")
    return redirect(url_for("main.home"))
