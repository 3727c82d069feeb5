"""Named collections: albums, series and photo sets with a public page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry.core.errors import TamgaError
from registry.extensions import db
from registry.services import collections
from registry.services.disputes import utc
from registry.services.privacy import Viewer
from registry.web.collections.forms import CollectionForm, chosen_works
from registry.web.utils import apply_error

bp = Blueprint("collections", __name__, url_prefix="/collections")


def collections_of_work(work) -> list:
    """For a work's page: the collections it belongs to, where the viewer sees it."""
    return collections.collections_containing(work, Viewer.of(current_user))


@bp.route("/", methods=["GET", "POST"])
@login_required
def mine():
    form = CollectionForm()
    status = 422 if form.is_submitted() and not form.validate() else 200
    if status == 200 and form.is_submitted():
        try:
            made = collections.create_collection(current_user, form.title.data, form.kind.data,
                                                 form.description.data, utc())
        except TamgaError as exc:
            db.session.rollback()
            apply_error(form, exc)
            status = exc.http_status
        else:
            db.session.commit()
            return redirect(url_for("collections.edit", collection_id=made.id))
    return render_template("collections/mine.html", form=form,
                           items=collections.collections_of(current_user)), status


@bp.get("/<int:collection_id>")
def show(collection_id: int):
    collection = collections.get_collection(collection_id)
    viewer = Viewer.of(current_user)
    return render_template("collections/show.html", c=collection,
                           works=collections.visible_works(collection, viewer),
                           hidden=collections.hidden_count(collection, viewer),
                           is_owner=viewer.user_id == collection.owner_id)


@bp.route("/<int:collection_id>/edit", methods=["GET", "POST"])
@login_required
def edit(collection_id: int):
    collection = collections.get_owned_collection(current_user, collection_id)
    form = CollectionForm(obj=collection) if request.method == "GET" else CollectionForm()
    status = 422 if form.is_submitted() and not form.validate() else 200
    if status == 200 and form.is_submitted():
        try:
            collections.update_collection(current_user, collection, form.title.data,
                                          form.kind.data, form.description.data, utc())
            collections.set_works(current_user, collection, chosen_works(request.form), utc())
        except TamgaError as exc:
            db.session.rollback()
            apply_error(form, exc)
            status = exc.http_status
        else:
            db.session.commit()
            flash(_("The collection is saved."), "success")
            return redirect(url_for("collections.show", collection_id=collection.id))
    return render_template("collections/edit.html", form=form, c=collection,
                           candidates=collections.candidate_works(current_user),
                           positions=_positions(collection)), status


def _positions(collection) -> dict[str, int]:
    """Registration number -> position: as sent after a refused save, else as stored."""
    if request.method == "POST":
        return {n: i for i, n in enumerate(chosen_works(request.form), start=1)}
    return {i.work.registration_number: i.position for i in collection.items}


@bp.post("/<int:collection_id>/delete")
@login_required
def delete(collection_id: int):
    collection = collections.get_owned_collection(current_user, collection_id)
    collections.delete_collection(current_user, collection)
    db.session.commit()
    flash(_("The collection is deleted; its works stay registered."), "info")
    return redirect(url_for("collections.mine"))
