"""Home page and the language switcher."""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request
from flask_login import current_user

from registry.extensions import db
from registry.i18n import LANG_COOKIE, LANGUAGES
from registry.services import accounts
from registry.web.utils import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    return render_template("main/home.html")


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    response = make_response(redirect(safe_next(request.form.get("next"))))
    if lang in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="Lax"
        )
        if current_user.is_authenticated:
            accounts.set_locale(current_user, lang)
            db.session.commit()
    return response
