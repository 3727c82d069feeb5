"""One place where errors become pages (or JSON under /api) with the right status."""

from __future__ import annotations

import errno

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from registry.core.errors import LedgerError, TamgaError
from registry.i18n import error_message


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, extra: dict | None = None):
    if _wants_json():
        return jsonify(error={"code": code, "message": message, **(extra or {})}), status
    return render_template("errors/error.html", status=status, message=message), status


def http_messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Please log in first."),
        403: _("You do not have permission to do this."),
        404: _("There is nothing at this address."),
        405: _("This address does not accept that kind of request."),
        413: _("The upload is larger than this registry accepts."),
        415: _("This type of file is not supported."),
        422: _("The request has invalid data."),
        429: _("Too many attempts. Please wait a little and try again."),
        500: _("Something went wrong on our side. Nothing you sent was saved; please try again."),
    }


#: Details of a domain error that an API client may act on (e.g. the fields still missing).
PUBLIC_DETAILS = ("missing",)


def handle_tamga_error(exc: TamgaError):
    extra = {k: exc.details[k] for k in PUBLIC_DETAILS if k in exc.details}
    if isinstance(exc, LedgerError):  # our own fault: logged, never shown in English
        current_app.log_exception((type(exc), exc, exc.__traceback__))
        message = http_messages()[500]
    else:
        message = error_message(exc)
    response = error_response(exc.http_status, exc.code, message, extra)
    retry = getattr(exc, "retry_after_s", None)
    if retry:
        return response[0], response[1], {"Retry-After": str(retry)}
    return response


def handle_csrf_error(exc: CSRFError):
    return error_response(
        400, "csrf_failed",
        _("The form expired or was sent from another site. Please reload the page and try again."),
    )


def handle_http_error(exc: HTTPException):
    status = exc.code or 500
    message = http_messages().get(status, exc.description or "")
    return error_response(status, exc.name.lower().replace(" ", "_"), message)


STORAGE_FULL = 507


def _storage_full():
    return error_response(STORAGE_FULL, "storage_full", _(
        "The registry's storage is full. Nothing you sent was saved; please try again "
        "later."))


def handle_os_error(exc: OSError):
    """A full disk is 507 with a clear message; any other OSError stays a 500."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        current_app.logger.error("storage full: %s", exc)
        return _storage_full()
    current_app.log_exception((type(exc), exc, exc.__traceback__))
    return handle_http_error(InternalServerError())


def handle_database_error(exc: OperationalError):
    """SQLite reports a full disk as an OperationalError."""
    if "disk is full" in str(exc.orig):
        current_app.logger.error("database storage full: %s", exc)
        return _storage_full()
    current_app.log_exception((type(exc), exc, exc.__traceback__))
    return handle_http_error(InternalServerError())


def init_errors(app: Flask) -> None:
    app.register_error_handler(OSError, handle_os_error)
    app.register_error_handler(OperationalError, handle_database_error)
    app.register_error_handler(TamgaError, handle_tamga_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
