"""One place where errors become pages (or JSON under /api) with the right status."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from registry.core.errors import TamgaError


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str):
    if _wants_json():
        return jsonify(error={"code": code, "message": message}), status
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


def handle_tamga_error(exc: TamgaError):
    return error_response(exc.http_status, exc.code, str(exc.message))


def handle_csrf_error(exc: CSRFError):
    return error_response(
        400, "csrf_failed",
        _("The form expired or was sent from another site. Please reload the page and try again."),
    )


def handle_http_error(exc: HTTPException):
    status = exc.code or 500
    message = http_messages().get(status, exc.description or "")
    return error_response(status, exc.name.lower().replace(" ", "_"), message)


def init_errors(app: Flask) -> None:
    app.register_error_handler(TamgaError, handle_tamga_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
