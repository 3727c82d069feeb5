"""What a registrant says about a work, validated once for the web form, the API
and bulk import alike."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from registry.core.errors import ValidationFailed
from registry.core.ledger.canonical import canonical_json
from registry.models.work import AIUse, RegistrantCapacity, Visibility, WorkType

AUTHOR_ROLES = (
    "composer", "lyricist", "performer", "producer", "arranger", "photographer", "artist",
    "illustrator", "director", "screenwriter", "camera", "editor", "author", "other",
)
LICENCES = (
    "all-rights-reserved", "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-ND-4.0", "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0", "CC-BY-NC-ND-4.0", "CC0-1.0",
)
#: The role an author gets when the registrant names none (form pre-fill, API, bulk import).
DEFAULT_ROLES: dict[WorkType, str] = {
    WorkType.MUSICAL_WORK: "composer", WorkType.SOUND_RECORDING: "performer",
    WorkType.PHOTOGRAPH: "photographer", WorkType.ARTWORK: "artist",
    WorkType.AUDIOVISUAL: "director", WorkType.OTHER: "author",
}
#: The author roles that fit each kind of work (the form offers only these; every
#: channel refuses another). The default role comes first.
ROLES_BY_TYPE: dict[WorkType, tuple[str, ...]] = {
    WorkType.MUSICAL_WORK: ("composer", "lyricist", "arranger", "author", "other"),
    WorkType.SOUND_RECORDING: ("performer", "producer", "composer", "lyricist", "arranger",
                               "editor", "author", "other"),
    WorkType.PHOTOGRAPH: ("photographer", "artist", "editor", "author", "other"),
    WorkType.ARTWORK: ("artist", "illustrator", "author", "other"),
    WorkType.AUDIOVISUAL: ("director", "screenwriter", "camera", "editor", "producer",
                           "composer", "performer", "author", "other"),
    WorkType.OTHER: AUTHOR_ROLES,
}


@dataclass
class AuthorInput:
    full_name: str
    role: str
    share: Decimal
    # Co-authors confirm: an author given an e-mail is asked to confirm.
    # Not part of the metadata record or its digest.
    email: str | None = None


@dataclass
class WorkMetadata:
    title: str
    work_type: WorkType
    authors: list[AuthorInput]
    original_title: str | None = None
    description: str | None = None
    language: str | None = None
    country: str | None = None
    registrant_capacity: RegistrantCapacity = RegistrantCapacity.AUTHOR
    rights_basis: str | None = None
    creation_date: date | None = None
    creation_year: int | None = None
    published: bool = False
    published_on: date | None = None
    publication_place: str | None = None
    publication_url: str | None = None
    ai_use: AIUse = AIUse.NONE
    ai_tools: str | None = None
    ai_parts: str | None = None
    human_contribution: str | None = None
    licence: str = "all-rights-reserved"
    ai_training_opt_out: bool = True
    visibility: Visibility = Visibility.PUBLIC
    allow_thumbnail: bool = True
    publish_original: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        """A JSON-able form, used for versions and their digests."""
        record = asdict(self)
        record.pop("extra")
        record["authors"] = [
            {"full_name": a.full_name, "role": a.role, "share": f"{Decimal(a.share):.2f}"}
            for a in self.authors
        ]
        for key, value in list(record.items()):
            if isinstance(value, date):
                record[key] = value.isoformat()
            elif hasattr(value, "value"):
                record[key] = value.value
        return record

    def digest(self) -> str:
        return hashlib.sha256(canonical_json(self.as_record())).hexdigest()


def parse_share(raw: object) -> Decimal:
    try:
        share = Decimal(str(raw).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(
            _l("A share must be a number of percent."), field="authors") from None
    if not share.is_finite() or share <= 0 or share > 100:
        raise ValidationFailed(_l("Each share must be more than 0 and at most 100 percent."),
                               field="authors")
    return share.quantize(Decimal("0.01"))


def validate_metadata(meta: WorkMetadata, *, today: date | None = None) -> WorkMetadata:
    """Check the rules a form cannot express alone; raise ValidationFailed naming the field."""
    today = today or date.today()
    meta.title = (meta.title or "").strip()
    if not meta.title:
        raise ValidationFailed(_l("A title is required."), field="title")
    _check_authors(meta.authors)
    _check_roles_fit(meta.work_type, meta.authors)
    _check_dates(meta, today)
    if meta.registrant_capacity == RegistrantCapacity.RIGHTS_HOLDER and not meta.rights_basis:
        raise ValidationFailed(
            _l("A rights holder must say on what basis they hold the rights."),
            field="rights_basis")
    if meta.ai_use != AIUse.NONE and not (meta.human_contribution or "").strip():
        raise ValidationFailed(
            _l("Describe the human contribution when AI was used."), field="human_contribution")
    if meta.licence not in LICENCES:
        raise ValidationFailed(_l("Unknown licence."), field="licence")
    if meta.publication_url and urlsplit(meta.publication_url).scheme not in ("http", "https"):
        raise ValidationFailed(_l("The publication URL must start with http:// or https://."),
                               field="publication_url")
    return meta


AUTHOR_NAME_MAX = 200


def _check_authors(authors: list[AuthorInput]) -> None:
    if not authors:
        raise ValidationFailed(_l("Name at least one author."), field="authors")
    for author in authors:
        if not author.full_name.strip():
            raise ValidationFailed(_l("Every author needs a full name."), field="authors")
        if len(author.full_name.strip()) > AUTHOR_NAME_MAX:
            raise ValidationFailed(_l("An author's name may have at most %(max)d characters.",
                                      max=AUTHOR_NAME_MAX), field="authors")
        if author.role not in AUTHOR_ROLES:
            raise ValidationFailed(_l("Unknown author role."), field="authors")
    total = sum((Decimal(a.share) for a in authors), Decimal(0))
    if total != Decimal(100):
        raise ValidationFailed(
            _l("The authors' shares must add up to 100%% (now %(total)s%%).", total=str(total)),
            field="authors")


def _check_roles_fit(work_type: WorkType, authors: list[AuthorInput]) -> None:
    fitting = ROLES_BY_TYPE[WorkType(work_type)]
    for author in authors:
        if author.role not in fitting:
            raise ValidationFailed(
                _l("The role “%(role)s” does not fit this kind of work; choose one of the "
                   "roles offered for it.", role=author.role), field="authors")


def _check_dates(meta: WorkMetadata, today: date) -> None:
    if meta.creation_date and meta.creation_date.year < 1000:
        raise ValidationFailed(_l("The creation year is not plausible."), field="creation_date")
    if meta.creation_date and meta.creation_date > today:
        raise ValidationFailed(_l("The creation date cannot be in the future."),
                               field="creation_date")
    if meta.creation_year is not None and not 1000 <= meta.creation_year <= today.year:
        raise ValidationFailed(_l("The creation year is not plausible."), field="creation_date")
    if meta.published:
        if not meta.published_on:
            raise ValidationFailed(_l("Give the date of first publication."),
                                   field="published_on")
        if meta.published_on > today:
            raise ValidationFailed(_l("The publication date cannot be in the future."),
                                   field="published_on")
        created = meta.creation_date or (meta.creation_year and date(meta.creation_year, 1, 1))
        if created and meta.published_on < created:
            raise ValidationFailed(_l("A work cannot be published before it was created."),
                                   field="published_on")
    else:
        meta.published_on = meta.publication_place = meta.publication_url = None


def check_media_fits_type(work_type: WorkType, media_kind: str) -> None:
    """Some work types need a file of one kind (a sound recording: audio)."""
    from registry import kinds

    for kind in kinds.all_kinds():
        if work_type.value in kind.exclusive_work_types and media_kind != kind.name:
            raise ValidationFailed(kind.wrong_file_message, field="file")
