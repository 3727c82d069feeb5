"""Opt-in public creator pages: a creator's public works at /creators/<id>.

A page exists only while its account has turned ``public_profile`` on and has not
been deleted; it lists only works the privacy policy shows to anybody (public,
registered or in conflict), never private or withdrawn ones.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from registry.core.errors import NotFound
from registry.extensions import db
from registry.models.user import User
from registry.models.work import Visibility, Work, WorkStatus
from registry.services.privacy import ANONYMOUS

LISTED_STATUSES = (WorkStatus.REGISTERED, WorkStatus.CONFLICT)


def public_creator(user_id: int) -> User:
    """The creator whose page this is, or NotFound (page off, deleted, or no such id)."""
    user = db.session.get(User, user_id)
    if user is None or not user.public_profile or user.deleted_at is not None:
        raise NotFound(_l("There is no public page for this creator."))
    return user


def public_works_query(user: User) -> Select[tuple[Work]]:
    """The creator's works that anybody may see, newest first."""
    return (select(Work)
            .where(Work.owner_id == user.id, Work.visibility == Visibility.PUBLIC,
                   Work.status.in_(LISTED_STATUSES))
            .order_by(Work.registered_at.desc(), Work.id.desc()))


def listed(work: Work) -> bool:
    """The same rule as the query, asked of one work (and of the privacy policy)."""
    return work.status in LISTED_STATUSES and ANONYMOUS.sees_record(work)
