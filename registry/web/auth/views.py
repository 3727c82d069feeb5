"""Sign-up, confirmation, login and logout, passwords and profile."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from registry.core.errors import TamgaError
from registry.extensions import db, limiter
from registry.i18n import error_message
from registry.models.user import User
from registry.services import accounts, audit, emails, two_factor
from registry.web.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    ProfileForm,
    RecoveryCodesForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignupForm,
    TwoFactorConfirmForm,
    TwoFactorDisableForm,
    TwoFactorForm,
)
from registry.web.utils import (
    absolute_url,
    apply_error,
    mailer,
    safe_next,
    show_delivery,
    show_mail_notice,
)

bp = Blueprint("auth", __name__)
_T = TypeVar("_T")


def _login_failed(response) -> bool:
    """Only failed attempts count against the login limits (success redirects)."""
    return response.status_code != 302


def _account_key() -> str:
    return "login:" + accounts.normalise_email(request.form.get("email", ""))


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _where() -> audit.Where:
    return audit.Where(request.remote_addr)


#: The Flask session key holding a login that passed the password and awaits its code.
PENDING = "two_factor_pending"
PENDING_MAX_AGE = 300


def _pending_key() -> str:
    pending = session.get(PENDING) or {}
    return f"2fa:{pending.get('uid', request.remote_addr)}"


def _account_limit_key() -> str:
    return f"2fa-account:{current_user.get_id() if current_user.is_authenticated else ''}"


def _two_factor_failed(response) -> bool:
    """Only wrong codes count against the two-factor limits."""
    return bool(g.get("two_factor_failed"))


def _code_refused(exc: TamgaError) -> None:
    g.two_factor_failed = True


def _with_code(step: Callable[[], _T]) -> tuple[bool, _T | None]:
    """Run ``step``, which checks a two-factor code, and commit. A refused code counts
    against the limit, stays in the audit trail and is shown: (False, None)."""
    try:
        result = step()
    except TamgaError as exc:
        _code_refused(exc)
        db.session.commit()
        flash(error_message(exc), "error")
        return False, None
    db.session.commit()
    return True, result


def _finish_login(user: User, remember: bool, next_url: str | None):
    accounts.start_session(user, user_agent=request.user_agent.string,
                           ip_address=request.remote_addr)
    login_user(user, remember=remember)
    db.session.commit()
    return redirect(safe_next(next_url))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        try:
            delivery = accounts.sign_up(
                form.email.data, form.password.data, form.display_name.data,
                locale=request.cookies.get("lang") or None, mailer=mailer(),
                confirm_link=lambda user: absolute_url(
                    "auth.confirm", token=accounts.make_confirmation_token(user, _secret())),
                login_link=absolute_url("auth.login"),
                reset_link=absolute_url("auth.reset_request"))
        except TamgaError as exc:
            apply_error(form, exc)
        else:
            db.session.commit()
            # The same words whether or not the address already had an account (item 8).
            flash(_("Account created. Open the link we sent to %(email)s to confirm it.",
                    email=accounts.normalise_email(form.email.data)), "success")
            show_delivery(delivery)
            return redirect(url_for("auth.login"))
    return render_template("auth/signup.html", form=form)


@bp.get("/confirm/<token>")
def confirm(token: str):
    max_age = current_app.config["TAMGA_CONFIRM_MAX_AGE"]
    try:
        accounts.confirm_email(token, _secret(), max_age)
    except TamgaError as exc:
        flash(error_message(exc), "error")
        return render_template("auth/confirm_failed.html"), 400
    db.session.commit()
    flash(_("Your e-mail address is confirmed. You can log in now."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["TAMGA_LOGIN_LIMIT_ADDRESS"], methods=["POST"],
               deduct_when=_login_failed)
@limiter.limit(lambda: current_app.config["TAMGA_LOGIN_LIMIT_ACCOUNT"], methods=["POST"],
               key_func=_account_key, deduct_when=_login_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data, where=_where())
        except TamgaError as exc:
            db.session.commit()  # the failed attempt stays in the audit trail
            apply_error(form, exc)
        else:
            if not two_factor.is_enabled(user):
                return _finish_login(user, form.remember.data, request.args.get("next"))
            session[PENDING] = {"uid": user.id, "remember": bool(form.remember.data),
                                "next": request.args.get("next"), "at": time.time(),
                                "ph": user.password_hash[-16:]}
            return redirect(url_for("auth.two_factor_login"))
    return render_template("auth/login.html", form=form)


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["TAMGA_TWO_FACTOR_LIMIT"], methods=["POST"],
               key_func=_pending_key, deduct_when=_two_factor_failed)
@limiter.limit(lambda: current_app.config["TAMGA_LOGIN_LIMIT_ADDRESS"], methods=["POST"],
               deduct_when=_two_factor_failed)
def two_factor_login():
    """The second step: the password was right; now a code from the app."""
    pending = session.get(PENDING)
    user = db.session.get(User, pending["uid"]) if pending else None
    if (user is None or time.time() - pending["at"] > PENDING_MAX_AGE
            or user.password_hash[-16:] != pending.get("ph")):  # the password changed since
        session.pop(PENDING, None)
        flash(_("Please log in again."), "info")
        return redirect(url_for("auth.login"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        try:
            used = two_factor.verify(user, form.code.data, where=_where())
        except TamgaError as exc:
            _code_refused(exc)
            db.session.commit()  # the wrong code stays in the audit trail
            apply_error(form, exc)
        else:
            session.pop(PENDING, None)
            if used == "recovery":
                flash(ngettext("You used a recovery code; %(num)d is left.",
                               "You used a recovery code; %(num)d are left.",
                               two_factor.remaining_recovery_codes(user)), "info")
            return _finish_login(user, pending["remember"], pending["next"])
    return render_template("auth/two_factor_login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    if current_user.active_session is not None:
        accounts.end_session(current_user.active_session)
    logout_user()
    db.session.commit()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/reset", methods=["GET", "POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = accounts.find_user_by_email(form.email.data)
        if user is not None:
            link = absolute_url("auth.reset_password",
                                token=accounts.make_reset_token(user, _secret()))
            emails.send_password_reset(mailer(), user, link)
            db.session.commit()  # the message is an outbox row, sent after this
        # The same answer whether or not the account exists: no address probing.
        flash(_("If an account exists for that address, we sent it a reset link."), "info")
        show_mail_notice()
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data, _secret(),
                                    current_app.config["TAMGA_RESET_MAX_AGE"], where=_where())
        except TamgaError as exc:
            apply_error(form, exc)
        else:
            db.session.commit()
            flash(_("Your password is changed. Please log in."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ended = accounts.change_password(current_user, form.current.data, form.password.data,
                                             where=_where())
        except TamgaError as exc:
            apply_error(form, exc)
        else:
            db.session.commit()
            flash(_("Your password is changed.") + " " + ngettext(
                "%(num)d other session was logged out.",
                "%(num)d other sessions were logged out.", ended), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        data = accounts.ProfileData(**{f: form[f].data for f in accounts.PROFILE_FIELDS})
        try:
            accounts.update_profile(current_user, data)
        except TamgaError as exc:
            apply_error(form, exc)
        else:
            db.session.commit()
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form)


@bp.get("/account/security")
@login_required
def security():
    """Two-factor sign-in, and the ledger secret that opens this account's commitments."""
    from registry.services import ledger

    secret = ledger.ledger_secret(current_user)
    db.session.commit()
    return render_template("auth/security.html", ledger_secret=secret,
                           two_factor_on=two_factor.is_enabled(current_user),
                           codes_left=two_factor.remaining_recovery_codes(current_user),
                           required=two_factor.is_required(current_user),
                           regenerate_form=RecoveryCodesForm(),
                           disable_form=TwoFactorDisableForm())


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
@limiter.limit(lambda: current_app.config["TAMGA_TWO_FACTOR_LIMIT"], methods=["POST"],
               key_func=_account_limit_key, deduct_when=_two_factor_failed)
def two_factor_setup():
    """Enrolment: the secret as text, as an otpauth URI and as a QR code; a first code
    turns it on and shows the recovery codes once."""
    if two_factor.is_enabled(current_user):
        return redirect(url_for("auth.security"))
    secret = two_factor.begin_enrolment(current_user)
    db.session.commit()
    form = TwoFactorConfirmForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_enrolment(current_user, form.code.data, where=_where())
        except TamgaError as exc:
            _code_refused(exc)
            apply_error(form, exc)
        else:
            db.session.commit()
            flash(_("Two-factor sign-in is on."), "success")
            return _not_stored(render_template("auth/recovery_codes.html", codes=codes))
    uri = two_factor.provisioning_uri(current_user, secret)
    return _not_stored(render_template(
        "auth/two_factor_setup.html", form=form, secret=secret, uri=uri, qr=qr_data_uri(uri),
        required=two_factor.is_required(current_user)))


@bp.post("/account/two-factor/recovery-codes")
@login_required
@limiter.limit(lambda: current_app.config["TAMGA_TWO_FACTOR_LIMIT"],
               key_func=_account_limit_key, deduct_when=_two_factor_failed)
def recovery_codes():
    form = RecoveryCodesForm()
    if form.validate_on_submit():
        ok, codes = _with_code(lambda: two_factor.regenerate_recovery_codes(
            current_user, form.code.data, where=_where()))
        if ok:
            return _not_stored(render_template("auth/recovery_codes.html", codes=codes))
    return redirect(url_for("auth.security")), 303


@bp.post("/account/two-factor/disable")
@login_required
@limiter.limit(lambda: current_app.config["TAMGA_TWO_FACTOR_LIMIT"],
               key_func=_account_limit_key, deduct_when=_two_factor_failed)
def two_factor_disable():
    form = TwoFactorDisableForm()
    if form.validate_on_submit():
        ok, _off = _with_code(lambda: two_factor.disable(
            current_user, form.password.data, form.code.data, where=_where()))
        if ok:
            flash(_("Two-factor sign-in is off."), "info")
    return redirect(url_for("auth.security")), 303


def _not_stored(html: str):
    """Secrets and recovery codes: no browser or proxy cache keeps the page."""
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


def qr_data_uri(text: str) -> str:
    """The QR code as an SVG ``data:`` URI, drawn here (no outside service).

    Shown at its own size (5 px per module, the standard 4-module quiet zone), so no
    module is blurred by scaling: phones and decoders read it at the first try.
    """
    import segno

    return segno.make(text, error="m").svg_data_uri(scale=5, border=4)
