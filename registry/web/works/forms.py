"""The registration form, following what state registers ask for."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from registry.models.work import WorkType
from registry.services.metadata_input import metadata_from_fields
from registry.services.work_metadata import (
    DEFAULT_ROLES,
    ROLES_BY_TYPE,
    AuthorInput,
    WorkMetadata,
    parse_share,
)
from registry.web.auth.forms import COUNTRY_CHOICES
from registry.web.forms_common import choices
from registry.web.labels import (
    AI_LABELS,
    CAPACITY_LABELS,
    LANGUAGE_CHOICES,
    LICENCE_LABELS,
    ROLE_LABELS,
    VISIBILITY_LABELS,
    WORK_TYPE_LABELS,
)

CREATION_RE = re.compile(r"^\d{4}(-\d{2}-\d{2})?$")


class AuthorForm(Form):
    full_name = StringField(_l("Full legal name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()))
    share = StringField(_l("Share, %"), validators=[Optional(), Length(max=8)], default="100")
    # Co-authors confirm: an author given an e-mail is asked to confirm.
    email = StringField(_l("E-mail, to ask them to confirm (optional)"),
                        validators=[Optional(), Email(), Length(max=254)])


def validate_creation(form: FlaskForm, field: StringField) -> None:
    text = (field.data or "").strip()
    if text and not CREATION_RE.match(text):
        raise ValidationError(_l("Enter a year (2024) or a date (2024-05-31)."))
    if len(text) == 10:
        try:
            date.fromisoformat(text)
        except ValueError:
            raise ValidationError(_l("There is no such date in the calendar.")) from None


class WorkMetadataForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    original_title = StringField(
        _l("Title in the original language or script"), validators=[Optional(), Length(max=300)],
        description=_l("Only if it differs, e.g. Cyrillic and Latin."))
    work_type = SelectField(_l("Kind of work"), choices=choices(WORK_TYPE_LABELS.items()))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    language = SelectField(_l("Language of the work"), choices=choices(LANGUAGE_CHOICES))
    country = SelectField(_l("Country of creation"), choices=choices(COUNTRY_CHOICES))
    authors = FieldList(FormField(AuthorForm), min_entries=1, max_entries=20)
    registrant_capacity = RadioField(_l("You register this work as"),
                                     choices=choices(CAPACITY_LABELS.items()), default="author")
    rights_basis = TextAreaField(
        _l("Basis of your rights"), validators=[Optional(), Length(max=2000)],
        description=_l("For rights holders: contract, inheritance, employment, assignment…"))
    creation = StringField(_l("Creation date or year"), validators=[Optional(), validate_creation],
                           description=_l("A year (2024) or a date (2024-05-31)."))
    published = BooleanField(_l("The work has been published"))
    published_on = DateField(_l("Date of first publication"), validators=[Optional()])
    publication_place = StringField(_l("Place or platform of first publication"),
                                    validators=[Optional(), Length(max=300)])
    publication_url = URLField(_l("URL of first publication"),
                               validators=[Optional(), Length(max=1000)])
    ai_use = RadioField(_l("Use of artificial intelligence"),
                        choices=choices(AI_LABELS.items()), default="none")
    ai_tools = StringField(_l("Which AI tools"), validators=[Optional(), Length(max=500)])
    ai_parts = StringField(_l("Which parts were made with AI"),
                           validators=[Optional(), Length(max=500)])
    human_contribution = TextAreaField(
        _l("Human contribution"), validators=[Optional(), Length(max=2000)],
        description=_l("What people created: melody, lyrics, composition, selection, editing…"))
    licence = SelectField(_l("Licence"), choices=choices(LICENCE_LABELS.items()))
    ai_training_opt_out = BooleanField(_l("Do not allow use of this work to train AI"),
                                       default=True)
    visibility = RadioField(_l("Visibility"), choices=choices(VISIBILITY_LABELS.items()),
                            default="public")
    allow_thumbnail = BooleanField(_l("Show a small preview of an image on the public page"),
                                   default=True)
    publish_original = BooleanField(_l("Let anyone download the original file"))

    def chosen_type(self) -> WorkType:
        try:
            return WorkType(self.work_type.data)
        except ValueError:
            return WorkType(self.work_type.choices[0].value)

    def fit_roles(self) -> None:
        """Offer only the roles that fit the chosen kind of work; a role that does not
        fit (or none yet) becomes that kind's default role."""
        kind = self.chosen_type()
        fitting = ROLES_BY_TYPE[kind]
        for entry in self.authors.entries:
            entry.role.choices = choices((r, ROLE_LABELS[r]) for r in fitting)
            if entry.role.data not in fitting and not self.is_submitted():
                entry.role.data = DEFAULT_ROLES[kind]

    def roles_by_type(self) -> dict[str, list[tuple[str, str]]]:
        """The fitting roles per kind, with labels, for the page's script."""
        return {kind.value: [(r, str(ROLE_LABELS[r])) for r in roles]
                for kind, roles in ROLES_BY_TYPE.items()}

    def to_metadata(self, owner) -> WorkMetadata:
        """Through the same parser as the API and the bulk import (one schema)."""
        return metadata_from_fields(self.fields(), owner, self._authors())

    def fields(self) -> dict[str, str | None]:
        """The form as the text fields every channel sends (``POST /api/v1/works``)."""
        text = {name: getattr(self, name).data for name in (
            "title", "original_title", "work_type", "description", "language", "country",
            "registrant_capacity", "rights_basis", "publication_place", "publication_url",
            "ai_use", "ai_tools", "ai_parts", "human_contribution", "licence", "visibility")}
        flags = {name: "true" if getattr(self, name).data else "false" for name in (
            "published", "ai_training_opt_out", "allow_thumbnail", "publish_original")}
        published_on = self.published_on.data
        return {**text, **flags, "created_on": (self.creation.data or "").strip(),
                "published_on": published_on.isoformat() if published_on else None}

    def load_work(self, work) -> None:
        """Fill the fields that are not plain attributes of the work."""
        if work.creation_date:
            self.creation.data = work.creation_date.isoformat()
        elif work.creation_year:
            self.creation.data = str(work.creation_year)

    def coauthor_emails(self) -> dict[int, str]:
        """Author position (as registered) -> the e-mail given to ask them to confirm."""
        kept = [e for e in self.authors.entries if (e.full_name.data or "").strip()]
        return {i: e.email.data.strip() for i, e in enumerate(kept)
                if (e.email.data or "").strip()}

    def _authors(self) -> list[AuthorInput]:
        return [
            AuthorInput(entry.full_name.data.strip(), entry.role.data,
                        parse_share(entry.share.data))
            for entry in self.authors.entries
            if (entry.full_name.data or "").strip()
        ]


class RegistrationForm(WorkMetadataForm):
    file = FileField(_l("Main file (audio, image or video)"), validators=[FileRequired()],
                     description=_l("MP3, WAV, FLAC, OGG, Opus, M4A; JPEG, PNG, WebP, GIF, "
                                    "BMP, TIFF, HEIC, AVIF."))
    confirm_ai_declaration = BooleanField(
        _l("I confirm my AI declaration although the file says otherwise"),
        description=_l("The registration then goes to a moderator with both statements."))
    supporting = MultipleFileField(
        _l("Supporting files (optional)"),
        description=_l("Drafts, sketches, session files, lyrics: hashed and stored, "
                       "not fingerprinted."))
    submit = SubmitField(_l("Register"))


class AmendForm(WorkMetadataForm):
    note = StringField(_l("What changed and why"), validators=[Optional(), Length(max=300)])
    submit = SubmitField(_l("Save a new version"))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Withdraw this registration"))


class TransferForm(FlaskForm):
    email = StringField(_l("E-mail of the new owner's account"),
                        validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(_l("Offer the transfer"))


class BatchForm(WorkMetadataForm):
    """Many files, the metadata once; each file's title comes from the titles table
    (``titles``, in the order of the files) or from its file name."""

    title = StringField(_l("Title"), validators=[Optional(), Length(max=300)])
    files = MultipleFileField(
        _l("Files (audio, image or video)"),
        description=_l("Up to 100 files of the same kind of work, e.g. a photo set or an album."))
    confirm_ai_declaration = BooleanField(
        _l("I confirm my AI declaration although a file says otherwise"),
        description=_l("Such files then go to a moderator with both statements."))
    submit = SubmitField(_l("Register all files"))

    def batch_files(self, titles: list[str]):
        from registry.services.batch import BatchFile
        from registry.services.works import Upload

        chosen = [f for f in self.files.data or [] if f and f.filename]
        return [BatchFile(Upload(f.stream, f.filename), titles[i] if i < len(titles) else "")
                for i, f in enumerate(chosen)]
