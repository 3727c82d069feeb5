"""What a private work shows to whom: the one place every page, API answer, lookup
result, ledger entry, evidence bundle and report asks.

A private registration shows its number, time and hashes to anyone; its owner and
the moderators see everything. Nothing else decides this: callers build a
:class:`Viewer` once (from the logged-in user, an API token's user, or nobody)
and ask it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class _Visible(Protocol):
    """A work or a search hit: anything that knows whether it is public."""

    @property
    def is_public(self) -> bool: ...


@dataclass(frozen=True)
class Viewer:
    """Who is looking: an account id (None: anonymous) and whether they moderate."""

    user_id: int | None = None
    moderator: bool = False

    @classmethod
    def of(cls, user: Any) -> Viewer:
        """From a User, Flask-Login's anonymous user, another Viewer, or None."""
        if isinstance(user, Viewer):
            return user
        if user is None or not getattr(user, "is_authenticated", True):
            return ANONYMOUS
        return cls(int(user.id), bool(getattr(user, "is_moderator", False)))

    def owns(self, work: Any) -> bool:
        owner = getattr(work, "owner_id", None)
        return self.user_id is not None and owner is not None and owner == self.user_id

    def sees_all(self, work: Any) -> bool:
        """Owner or moderator: the whole record, private or not."""
        return self.moderator or self.owns(work)

    def sees_record(self, work: _Visible) -> bool:
        """Title, authors, registrant, work type, media, fingerprints, certificate."""
        return bool(work.is_public) or self.sees_all(work)

    def sees_thumbnail(self, work: Any) -> bool:
        return (bool(getattr(work, "thumbnail_key", None))
                and bool(getattr(work, "allow_thumbnail", False)) and self.sees_record(work))

    def sees_original(self, work: Any) -> bool:
        """The registered file itself: published by a public work, or to owner/moderator."""
        return (bool(work.publish_original) and bool(work.is_public)) or self.sees_all(work)

    def bundles_original(self, work: Any) -> bool:
        """An evidence bundle carries originals the owner published, or the exporter's own."""
        return (bool(work.publish_original) and bool(work.is_public)) or self.owns(work)


#: Anybody: what a private work shows to the public (number, time and hashes).
ANONYMOUS = Viewer()
#: The registry's operator (``flask evidence export``): a moderator's view.
OPERATOR = Viewer(None, moderator=True)


def public_fields(work: _Visible, viewer: Viewer, fields: dict[str, Any],
                  hidden: tuple[str, ...]) -> dict[str, Any]:
    """``fields`` with the ``hidden`` keys set to None when ``viewer`` may not see them."""
    if viewer.sees_record(work):
        return fields
    return {k: (None if k in hidden else v) for k, v in fields.items()}
