"""The API documentation page: the OpenAPI document rendered by our own script."""

from __future__ import annotations

from flask import render_template, url_for

from registry.api import docs_bp


@docs_bp.get("/docs")
def docs():
    return render_template("api/docs.html", spec_url=url_for("api.openapi"))
