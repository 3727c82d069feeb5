"""Turning text fields (the website's form, an API request, a bulk-import CSV row) into
``WorkMetadata``: one set of field names and one parsing path for every channel.

Only the shape of the request is checked here (400 when it cannot be read, 422
when a value is not one of the allowed ones); the rules themselves live in
``registry.services.work_metadata.validate_metadata``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import Any, TypeVar

from flask_babel import gettext as _

from registry.core.errors import TamgaError, ValidationFailed
from registry.models.user import User
from registry.models.work import AIUse, RegistrantCapacity, Visibility, WorkType
from registry.services.work_metadata import (
    DEFAULT_ROLES,
    AuthorInput,
    WorkMetadata,
    parse_share,
)

E = TypeVar("E", bound=Enum)

TEXT_FIELDS = ("original_title", "description", "language", "country", "human_contribution",
               "ai_tools", "ai_parts", "publication_url", "publication_place", "rights_basis")
_YEAR = re.compile(r"^\d{4}$")
#: Column widths of the works table, so that an over-long value is a 422, not a 500.
MAX_LENGTHS = {"title": 300, "original_title": 300, "language": 16, "country": 8,
               "ai_tools": 500, "ai_parts": 500, "publication_url": 1000,
               "publication_place": 300}


class MalformedRequest(TamgaError):
    """The request cannot be read at all (for example invalid JSON)."""

    code = "malformed_request"
    http_status = 400


def parse_enum(cls: type[E], raw: str | None, field: str, default: E | None = None) -> E:
    value = (raw or "").strip()
    if not value:
        if default is not None:
            return default
        raise ValidationFailed(_("The field “%(field)s” is required.", field=field), field=field)
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise ValidationFailed(
            _("“%(field)s” must be one of: %(allowed)s.", field=field, allowed=allowed),
            field=field) from None


def parse_date(raw: str | None, field: str) -> date | None:
    value = (raw or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_("“%(field)s” must be a date as YYYY-MM-DD.", field=field),
                               field=field) from None


def parse_created_on(raw: str | None) -> tuple[date | None, int | None]:
    """``YYYY`` gives a creation year, ``YYYY-MM-DD`` a creation date."""
    value = (raw or "").strip()
    if _YEAR.match(value):
        return None, int(value)
    return parse_date(value, "created_on"), None


def default_author_name(user: User) -> str:
    return user.legal_name_cyrillic or user.legal_name_latin or user.display_name


def parse_authors(raw: str | None, work_type: WorkType, owner: User) -> list[AuthorInput]:
    """Authors from a JSON list of ``{full_name, role, share}``; the owner by default."""
    role = DEFAULT_ROLES[work_type]
    if raw is None or not raw.strip():
        return [AuthorInput(default_author_name(owner), role, parse_share(100))]
    try:
        items = json.loads(raw)
    except ValueError:
        raise MalformedRequest(_("“authors” is not valid JSON."), field="authors") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise MalformedRequest(_("“authors” must be a JSON list of objects."), field="authors")
    return [_author(item, role, len(items)) for item in items]


def _author(item: Mapping[str, Any], default_role: str, count: int) -> AuthorInput:
    name = item.get("full_name")
    if not isinstance(name, str):
        raise ValidationFailed(_("Every author needs a full name."), field="authors")
    share = item.get("share")
    if share is None:
        if count != 1:
            raise ValidationFailed(_("Give every author's share in percent."), field="authors")
        share = 100
    email = item.get("email")
    if email is not None and not isinstance(email, str):
        raise ValidationFailed(_("An author's “email” must be text."), field="authors")
    return AuthorInput(name, str(item.get("role") or default_role), parse_share(share),
                       email=(email or "").strip() or None)


TRUE_WORDS = ("true", "1", "yes", "on", "y")
FALSE_WORDS = ("false", "0", "no", "off", "n")


def parse_bool(raw: str | None, field: str, default: bool) -> bool:
    """``true``/``false`` (and 1/0, yes/no); absent or empty means ``default``."""
    text = (raw or "").strip().lower()
    if not text:
        return default
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValidationFailed(_("“%(field)s” must be true or false.", field=field), field=field)


def check_lengths(form: Mapping[str, str | None]) -> None:
    for name, limit in MAX_LENGTHS.items():
        if len((form.get(name) or "").strip()) > limit:
            raise ValidationFailed(
                _("“%(field)s” is longer than %(limit)d characters.", field=name, limit=limit),
                field=name)


def metadata_from_form(form: Mapping[str, str], owner: User) -> WorkMetadata:
    """Build the metadata of ``POST /works`` from its multipart fields."""
    work_type = parse_enum(WorkType, form.get("work_type"), "work_type")
    return metadata_from_fields(form, owner, parse_authors(form.get("authors"), work_type, owner))


def metadata_from_fields(fields: Mapping[str, str | None], owner: User,
                         authors: list[AuthorInput] | None = None) -> WorkMetadata:
    """Metadata from plain text fields (API form, CSV row); ``authors`` default to the owner."""
    work_type = parse_enum(WorkType, fields.get("work_type"), "work_type")
    creation_date, creation_year = parse_created_on(fields.get("created_on"))
    published_on = parse_date(fields.get("published_on"), "published_on")
    check_lengths(fields)
    texts = {name: (fields.get(name) or "").strip() or None for name in TEXT_FIELDS}
    return WorkMetadata(
        title=fields.get("title") or "",
        work_type=work_type,
        authors=authors if authors is not None else parse_authors(None, work_type, owner),
        creation_date=creation_date,
        creation_year=creation_year,
        published=parse_bool(fields.get("published"), "published", published_on is not None),
        published_on=published_on,
        registrant_capacity=parse_enum(RegistrantCapacity, fields.get("registrant_capacity"),
                                       "registrant_capacity", RegistrantCapacity.AUTHOR),
        ai_use=parse_enum(AIUse, fields.get("ai_use"), "ai_use", AIUse.NONE),
        visibility=parse_enum(Visibility, fields.get("visibility"), "visibility",
                              Visibility.PUBLIC),
        licence=(fields.get("licence") or "").strip() or "all-rights-reserved",
        ai_training_opt_out=parse_bool(fields.get("ai_training_opt_out"), "ai_training_opt_out",
                                       owner.ai_training_opt_out_default),
        allow_thumbnail=parse_bool(fields.get("allow_thumbnail"), "allow_thumbnail", True),
        publish_original=parse_bool(fields.get("publish_original"), "publish_original", False),
        original_title=texts["original_title"], description=texts["description"],
        language=texts["language"], country=texts["country"],
        human_contribution=texts["human_contribution"], ai_tools=texts["ai_tools"],
        ai_parts=texts["ai_parts"], publication_url=texts["publication_url"],
        publication_place=texts["publication_place"], rights_basis=texts["rights_basis"],
    )
