"""Forms of the dispute pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from registry.models.dispute import Outcome
from registry.services.disputes import OUTCOME_LABELS, Submission, Upload
from registry.web.forms_common import choices


class EvidenceForm(FlaskForm):
    statement = TextAreaField(_l("Statement"), validators=[Optional(), Length(max=20000)])
    links = TextAreaField(_l("Links (one per line)"), validators=[Optional(), Length(max=5000)],
                          description=_l("Where the work was published first, drafts online…"))
    files = MultipleFileField(_l("Files"), description=_l(
        "Drafts, project files, originals. Only the moderators see them besides you."))

    def submission(self) -> Submission:
        links = [ln for ln in (self.links.data or "").splitlines() if ln.strip()]
        files = [Upload(f.stream, f.filename) for f in self.files.data or [] if f]
        return Submission(self.statement.data or "", links, files)


class OpenForm(EvidenceForm):
    kind = RadioField(_l("What happened?"), default="copies_registration", choices=choices([
        ("copies_registration", _l("This registration copies my work")),
        ("external_copy", _l("A file out there copies my registered work")),
        ("authorship", _l("I am an author of this work: my role or share is wrong, or I was "
                          "left out")),
    ]))
    # Checked by the service, which explains why a later registration cannot be used.
    claimant_work = SelectField(_l("My earlier registration"), validators=[Optional()],
                                choices=[], validate_choice=False)
    disputed_file = FileField(_l("The disputed file (or a clip or picture of it)"), description=_l(
        "It is fingerprinted and compared, then deleted unless you keep it as evidence."))
    keep_disputed_file = BooleanField(_l("Keep the file as my evidence"))
    found_url = StringField(_l("Where it was found (address)"),
                            validators=[Optional(), Length(max=1000)])
    found_platform = StringField(_l("Platform"), validators=[Optional(), Length(max=120)])
    found_on = DateField(_l("Date seen"), validators=[Optional()])


class DecideForm(FlaskForm):
    outcome = SelectField(_l("Outcome"), choices=choices(
        (o.value, OUTCOME_LABELS[o.value]) for o in Outcome))
    reason = TextAreaField(_l("Reasons (public)"), validators=[Length(min=10, max=20000)])
