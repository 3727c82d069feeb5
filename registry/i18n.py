"""Languages (Kazakh, Russian, English, Kyrgyz, Uzbek in Latin script) and time zones.

The language comes from the ``lang`` cookie (set by the switcher), then the
account's preference, then the browser's Accept-Language; Kazakh, the state
language, when nothing matches. Times are shown in the account's zone or in
Asia/Almaty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache

from flask import Flask, current_app, has_request_context, request
from flask_babel import format_decimal, get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user

from registry.core.dates import format_moment
from registry.core.errors import MESSAGES, TamgaError
from registry.extensions import babel

LANGUAGES = {
    "kk": "Қазақша", "ru": "Русский", "en": "English", "ky": "Кыргызча", "uz": "Oʻzbekcha",
}
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


def local_datetime(value: datetime | str | None, fmt: str = "medium") -> str:
    """A stored UTC time (or RFC 3339 string) in the viewer's zone and language."""
    if value is None or value == "":
        return ""
    return format_moment(value, str(get_locale()), str(get_timezone()), fmt)


def utc_datetime(value: datetime | str | None) -> str:
    """The same moment in UTC, for the exact record beside the local time."""
    return format_moment(value, str(get_locale()), "UTC", "long") if value else ""


def mmss(seconds: float | None) -> str:
    """Seconds as m:ss (or h:mm:ss), the way players show times."""
    if seconds is None:
        return ""
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def filesize(size: int | None) -> str:
    """A file size in the viewer's number format and unit names (1 MB = 1024 kB)."""
    if size is None:
        return ""
    units = [_("%(n)s bytes"), _("%(n)s kB"), _("%(n)s MB"), _("%(n)s GB")]
    value, unit = float(size), 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    number = format_decimal(value, format="#,##0" if unit == 0 else "#,##0.#")
    return units[unit] % {"n": number}


def format_share(value) -> str:
    return format_decimal(value, format="#,##0.##")


def translate_reason(reason: str, params: Mapping[str, object]) -> str:
    """A core error's message (a key of ``MESSAGES``) in the request's language.

    String parameters are translated too when the catalogues know them (the names
    of refused file types); numbers and unknown strings are shown as they are."""
    values = {key: _(value) if isinstance(value, str) and value else value
              for key, value in params.items()}
    return _(MESSAGES[reason], **values)


def error_message(exc: TamgaError) -> str:
    """What a user reads for a domain error, in the request's language.

    Core errors carry a reason and parameters and are translated here; services
    build their messages with lazy gettext, which translates when made a string."""
    if exc.reason in MESSAGES:
        return translate_reason(exc.reason, exc.params)
    return str(exc.message)


@cache
def _reason_patterns() -> list[tuple[str, re.Pattern[str]]]:
    patterns = []
    # The template with the most fixed text first: "…: %(container)s container with
    # %(codec)s audio." before the looser "…: %(kind)s.".
    by_fixed_text = sorted(MESSAGES.items(),
                           key=lambda item: -len(re.sub(r"%\(\w+\)s", "", item[1])))
    for reason, template in by_fixed_text:
        parts = re.split(r"%\((\w+)\)s", template)
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                        for i, part in enumerate(parts))
        patterns.append((reason, re.compile(regex)))
    return patterns


def stored_error_text(text: str | None) -> str:
    """A core error's English message saved earlier (a failed job's ``error``), in the
    viewer's language: matched back to its reason and parameters; other text as it is."""
    if not text:
        return ""
    for reason, pattern in _reason_patterns():
        found = pattern.fullmatch(text)
        if found:
            return translate_reason(reason, found.groupdict())
    return text


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters.update(local_datetime=local_datetime, utc_datetime=utc_datetime,
                                 filesize=filesize, mmss=mmss, format_share=format_share,
                                 error_text=stored_error_text)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        current_locale=lambda: str(get_locale()),
        current_timezone=lambda: str(get_timezone()),
    )
