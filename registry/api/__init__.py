"""The JSON API (``/api/v1``): bearer tokens, JSON in and out, an OpenAPI document.

``bp`` holds the versioned endpoints; ``docs_bp`` serves the readable
documentation page at ``/api/docs``.
"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify

from registry.api.auth import Unauthorized, rate_limit_key, rate_limit_value, resolve_token
from registry.extensions import csrf, limiter
from registry.i18n import error_message

bp = Blueprint("api", __name__, url_prefix="/api/v1")
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api")
csrf.exempt(bp)
limiter.limit(rate_limit_value, key_func=rate_limit_key)(bp)


@bp.before_request
def _authenticate() -> None:
    resolve_token()


@bp.errorhandler(Unauthorized)
def _unauthorized(exc: Unauthorized):
    response = jsonify(error={"code": exc.code, "message": error_message(exc)})
    return response, 401, {"WWW-Authenticate": 'Bearer realm="tamga"'}


def init_api(app: Flask) -> None:
    """Register the API blueprints (CSRF-exempt: no cookies; rate-limited per token)."""
    from registry.api import (  # noqa: F401 - routes register on import
        docs,
        evidence,
        ledger,
        lookup,
        provenance,
        state_filing,
        views,
    )

    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)
    app.register_blueprint(ledger.bp)  # /api/v1/ledger: checkpoints, entries, proofs, keys
    app.register_blueprint(ledger.tiles_bp)  # /ledger/checkpoint and /ledger/tile/... (C2SP)
