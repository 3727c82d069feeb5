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
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from registry.models.work import AIUse, RegistrantCapacity, Visibility, WorkType
from registry.services.work_metadata import AuthorInput, WorkMetadata, parse_share
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


def validate_creation(form: FlaskForm, field: StringField) -> None:
    if field.data and not CREATION_RE.match(field.data.strip()):
        raise ValidationError(_l("Enter a year (2024) or a date (2024-05-31)."))


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

    def to_metadata(self) -> WorkMetadata:
        creation = (self.creation.data or "").strip()
        return WorkMetadata(
            title=self.title.data, original_title=self.original_title.data or None,
            work_type=WorkType(self.work_type.data), description=self.description.data or None,
            language=self.language.data or None, country=self.country.data or None,
            authors=self._authors(),
            registrant_capacity=RegistrantCapacity(self.registrant_capacity.data),
            rights_basis=self.rights_basis.data or None,
            creation_date=date.fromisoformat(creation) if len(creation) == 10 else None,
            creation_year=int(creation) if len(creation) == 4 else None,
            published=self.published.data, published_on=self.published_on.data,
            publication_place=self.publication_place.data or None,
            publication_url=self.publication_url.data or None,
            ai_use=AIUse(self.ai_use.data), ai_tools=self.ai_tools.data or None,
            ai_parts=self.ai_parts.data or None,
            human_contribution=self.human_contribution.data or None,
            licence=self.licence.data, ai_training_opt_out=self.ai_training_opt_out.data,
            visibility=Visibility(self.visibility.data),
            allow_thumbnail=self.allow_thumbnail.data, publish_original=self.publish_original.data,
        )

    def load_work(self, work) -> None:
        """Fill the fields that are not plain attributes of the work."""
        if work.creation_date:
            self.creation.data = work.creation_date.isoformat()
        elif work.creation_year:
            self.creation.data = str(work.creation_year)

    def _authors(self) -> list[AuthorInput]:
        return [
            AuthorInput(entry.full_name.data.strip(), entry.role.data,
                        parse_share(entry.share.data))
            for entry in self.authors.entries
            if (entry.full_name.data or "").strip()
        ]


class RegistrationForm(WorkMetadataForm):
    file = FileField(_l("Main file (audio or image)"), validators=[FileRequired()],
                     description=_l("MP3, WAV, FLAC, OGG, Opus, M4A; JPEG, PNG, WebP, GIF, "
                                    "BMP, TIFF, HEIC, AVIF."))
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
