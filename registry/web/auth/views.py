"""Sign-up, confirmation, login and logout, passwords and profile."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from registry.core.errors import TamgaError
from registry.extensions import db, limiter
from registry.services import accounts, emails
from registry.web.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignupForm,
)
from registry.web.utils import apply_error, mailer, safe_next, show_delivery

bp = Blueprint("auth", __name__)


def _login_failed(response) -> bool:
    """Only failed attempts count against the login limits (success redirects)."""
    return response.status_code != 302


def _account_key() -> str:
    return "login:" + accounts.normalise_email(request.form.get("email", ""))


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = accounts.register_account(
                form.email.data, form.password.data, form.display_name.data,
                locale=request.cookies.get("lang") or None,
            )
        except TamgaError as exc:
            apply_error(form, exc)
        else:
            link = url_for("auth.confirm", token=accounts.make_confirmation_token(
                user, _secret()), _external=True)
            delivery = emails.send_confirmation(mailer(), user, link)
            db.session.commit()
            flash(_("Account created. Open the link we sent to %(email)s to confirm it.",
                    email=user.email), "success")
            show_delivery(delivery)
            return redirect(url_for("auth.login"))
    return render_template("auth/signup.html", form=form)


@bp.get("/confirm/<token>")
def confirm(token: str):
    max_age = current_app.config["TAMGA_CONFIRM_MAX_AGE"]
    try:
        accounts.confirm_email(token, _secret(), max_age)
    except TamgaError as exc:
        flash(str(exc.message), "error")
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
            user = accounts.authenticate(form.email.data, form.password.data)
        except TamgaError as exc:
            apply_error(form, exc)
        else:
            accounts.start_session(user, user_agent=request.user_agent.string,
                                   ip_address=request.remote_addr)
            login_user(user, remember=form.remember.data)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


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
            link = url_for("auth.reset_password",
                           token=accounts.make_reset_token(user, _secret()), _external=True)
            show_delivery(emails.send_password_reset(mailer(), user, link))
        # The same answer whether or not the account exists: no address probing.
        flash(_("If an account exists for that address, we sent it a reset link."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data, _secret(),
                                    current_app.config["TAMGA_RESET_MAX_AGE"])
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
                                             end_other_sessions=form.end_other_sessions.data)
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
