"""Languages (Kazakh, Russian, English) and time zones.

The language comes from the ``lang`` cookie (set by the switcher), then the
account's preference, then the browser's Accept-Language; Kazakh, the state
language, when nothing matches. Times are shown in the account's zone or in
Asia/Almaty.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, has_request_context, request
from flask_babel import format_datetime, format_decimal, get_locale, get_timezone
from flask_login import current_user

from registry.extensions import babel

LANGUAGES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
FALLBACK_LOCALE = "kk"
LANG_COOKIE = "lang"


def select_locale() -> str:
    if not has_request_context():  # CLI commands and background jobs
        return "en"
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    if current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(list(LANGUAGES)) or FALLBACK_LOCALE


def select_timezone() -> str:
    if not has_request_context():
        return current_app.config["TAMGA_DEFAULT_TIMEZONE"]
    if current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return current_app.config["TAMGA_DEFAULT_TIMEZONE"]


def local_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """A stored UTC time in the viewer's zone and language."""
    return format_datetime(value, fmt) if value is not None else ""


def mmss(seconds: float | None) -> str:
    """Seconds as m:ss (or h:mm:ss), the way players show times."""
    if seconds is None:
        return ""
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_share(value) -> str:
    return format_decimal(value, format="#,##0.##")


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters.update(local_datetime=local_datetime, mmss=mmss,
                                 format_share=format_share)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        current_locale=lambda: str(get_locale()),
        current_timezone=lambda: str(get_timezone()),
    )
