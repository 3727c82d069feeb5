"""Trust pages: terms of use, privacy policy and help."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from registry.services import disputes

bp = Blueprint("trust", __name__)


def _context() -> dict:
    config = current_app.config
    return {"contact": config["TAMGA_CONTACT_EMAIL"],
            "response_days": int(config.get("TAMGA_DISPUTE_RESPONSE_DAYS")
                                 or disputes.DEFAULT_RESPONSE_DAYS)}


@bp.get("/terms")
def terms():
    return render_template("trust/terms.html", **_context())


@bp.get("/privacy")
def privacy():
    return render_template("trust/privacy.html", **_context())


@bp.get("/help", endpoint="help")
def help_page():
    return render_template("trust/help.html", **_context())
