"""Public creator pages: opt-in, public works only."""

from __future__ import annotations

from flask import Blueprint, render_template

from registry.extensions import db
from registry.services import collections, creators
from registry.services.privacy import ANONYMOUS

bp = Blueprint("creators", __name__, url_prefix="/creators")


@bp.get("/<int:user_id>")
def profile(user_id: int):
    creator = creators.public_creator(user_id)
    page = db.paginate(creators.public_works_query(creator), per_page=24, error_out=False)
    shown = [(c, len(collections.visible_works(c, ANONYMOUS)))  # what anyone sees
             for c in collections.public_collections_of(creator, ANONYMOUS)]
    return render_template("creators/profile.html", creator=creator, page=page,
                           collections=shown)
