"""AI-training reservation headers, on the website's pages and the API's downloads."""

from __future__ import annotations

from flask import Response, url_for

from registry.services import reservations


def policy_url() -> str:
    return url_for("reservations.policy", _external=True)


def apply_reservation_headers(response: Response, work) -> Response:
    """The headers of a reserved public work (also on its credentialed copy in the API)."""
    if reservations.is_published_reservation(work):
        response.headers["tdm-reservation"] = "1"
        response.headers["tdm-policy"] = policy_url()
        response.headers["Content-Usage"] = "train-ai=n"
        response.headers["X-Robots-Tag"] = "noai, noimageai"
    return response
