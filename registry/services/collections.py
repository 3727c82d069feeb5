"""Named collections: an owner groups works into an album, a series or a
photo set with its own public page.

Anyone may open a collection's page; what it lists is decided by the privacy policy:
others see only the public works that are registered (or in conflict), the owner and
moderators see every work with its status. Services flush and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from registry.core.errors import NotFound, PermissionDenied, ValidationFailed
from registry.extensions import db
from registry.models.collection import Collection, CollectionItem, CollectionKind
from registry.models.user import User
from registry.models.work import Work, WorkStatus
from registry.services.privacy import Viewer

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
MAX_WORKS = 500
#: What others see of a collection: registered works (a conflict is still registered).
SHOWN_STATUSES = (WorkStatus.REGISTERED, WorkStatus.CONFLICT)

KIND_LABELS = {
    "album": _l("Album"), "series": _l("Series"), "photo_set": _l("Photo set"),
    "other": _l("Collection"),
}


def _clean(title: str, kind: str, description: str | None) -> tuple[str, CollectionKind, str]:
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(_l("A title is required."), field="title")
    if len(title) > TITLE_MAX:
        raise ValidationFailed(_l("The title may have at most %(max)d characters.",
                                  max=TITLE_MAX), field="title")
    try:
        chosen = CollectionKind(kind)
    except ValueError:
        raise ValidationFailed(_l("Choose what kind of collection this is."),
                               field="kind") from None
    text = (description or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise ValidationFailed(_l("The description may have at most %(max)d characters.",
                                  max=DESCRIPTION_MAX), field="description")
    return title, chosen, text


def create_collection(actor: User, title: str, kind: str, description: str | None,
                      now: datetime) -> Collection:
    title, chosen, text = _clean(title, kind, description)
    collection = Collection(owner_id=actor.id, title=title, kind=chosen,
                            description=text or None, created_at=now, updated_at=now)
    db.session.add(collection)
    db.session.flush()
    return collection


def update_collection(actor: User, collection: Collection, title: str, kind: str,
                      description: str | None, now: datetime) -> Collection:
    _require_owner(actor, collection)
    collection.title, collection.kind, text = _clean(title, kind, description)
    collection.description, collection.updated_at = text or None, now
    db.session.flush()
    return collection


def set_works(actor: User, collection: Collection, numbers: Sequence[str],
              now: datetime) -> Collection:
    """The collection's works, in this order (track 1 first); each must be the actor's."""
    _require_owner(actor, collection)
    wanted = list(dict.fromkeys(n.strip() for n in numbers if n and n.strip()))
    if len(wanted) > MAX_WORKS:
        raise ValidationFailed(_l("A collection may hold at most %(max)d works.", max=MAX_WORKS),
                               field="works")
    found = {w.registration_number: w for w in db.session.scalars(
        select(Work).where(Work.registration_number.in_(wanted)))} if wanted else {}
    for number in wanted:
        work = found.get(number)
        if work is None or work.owner_id != actor.id:
            raise ValidationFailed(_l("Only your own registrations can be put in a collection "
                                      "(%(number)s is not one of them).", number=number),
                                   field="works")
    by_work = {item.work_id: item for item in collection.items}
    keep = []
    for position, number in enumerate(wanted, start=1):
        item = by_work.get(found[number].id) or CollectionItem(work=found[number], added_at=now)
        item.position = position
        keep.append(item)
    collection.items = keep
    collection.updated_at = now
    db.session.flush()
    return collection


def delete_collection(actor: User, collection: Collection) -> None:
    """The grouping goes; the works stay registered."""
    _require_owner(actor, collection)
    db.session.delete(collection)
    db.session.flush()


def _require_owner(actor: User, collection: Collection) -> None:
    if collection.owner_id != actor.id:
        raise PermissionDenied(_l("Only the owner can change this collection."))


# --------------------------------------------------------------------------- reading


def get_collection(collection_id: int) -> Collection:
    collection = db.session.get(Collection, collection_id)
    if collection is None:
        raise NotFound(_l("There is no such collection."))
    return collection


def get_owned_collection(actor: User, collection_id: int) -> Collection:
    collection = get_collection(collection_id)
    _require_owner(actor, collection)
    return collection


def shows(viewer: Viewer, work: Work) -> bool:
    """Whether ``viewer`` sees ``work`` listed in a collection."""
    if viewer.sees_all(work):
        return True
    return work.is_public and work.status in SHOWN_STATUSES


def visible_works(collection: Collection, viewer: Viewer) -> list[Work]:
    return [item.work for item in collection.items if shows(viewer, item.work)]


def hidden_count(collection: Collection, viewer: Viewer) -> int:
    return len(collection.items) - len(visible_works(collection, viewer))


def collections_of(owner: User) -> list[Collection]:
    return list(db.session.scalars(select(Collection).where(
        Collection.owner_id == owner.id).order_by(Collection.created_at.desc(),
                                                  Collection.id.desc())))


def public_collections_of(owner: User, viewer: Viewer) -> list[Collection]:
    """The owner's collections with at least one work ``viewer`` may see (a creator's
    public profile lists these)."""
    return [c for c in collections_of(owner) if visible_works(c, viewer)]


def collections_containing(work: Work, viewer: Viewer) -> list[Collection]:
    """The collections a work's page links to: only where ``viewer`` sees the work."""
    if not shows(viewer, work):
        return []
    return list(db.session.scalars(select(Collection).join(CollectionItem).where(
        CollectionItem.work_id == work.id).order_by(Collection.title)))


def candidate_works(owner: User) -> list[Work]:
    """The owner's works that can be put in a collection (not failed), newest first."""
    return list(db.session.scalars(select(Work).where(
        Work.owner_id == owner.id, Work.status != WorkStatus.FAILED,
    ).order_by(Work.registered_at.desc(), Work.id.desc())))
