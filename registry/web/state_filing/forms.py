"""The particulars the state register's application asks for beyond the registration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, StringField, SubmitField
from wtforms.validators import Length, Optional

from registry.services.state_filing import AuthorParticulars, FilingParticulars
from registry.web.auth.forms import validate_iin_field

CITIZENSHIP_HINT = _l("For example: Republic of Kazakhstan")


class AuthorParticularsForm(Form):
    iin = StringField(_l("IIN"), validators=[Optional(), Length(max=12), validate_iin_field])
    citizenship = StringField(_l("Citizenship"), validators=[Optional(), Length(max=100)],
                              description=CITIZENSHIP_HINT)
    address = StringField(_l("Address (place of residence)"),
                          validators=[Optional(), Length(max=300)])
    pseudonym = StringField(_l("Pseudonym (if the work is to carry one)"),
                            validators=[Optional(), Length(max=200)])


class StateFilingForm(FlaskForm):
    applicant_iin = StringField(_l("Your IIN"),
                                validators=[Optional(), Length(max=12), validate_iin_field])
    applicant_citizenship = StringField(_l("Your citizenship"),
                                        validators=[Optional(), Length(max=100)],
                                        description=CITIZENSHIP_HINT)
    applicant_address = StringField(_l("Your address (place of residence)"),
                                    validators=[Optional(), Length(max=300)])
    applicant_phone = StringField(_l("Telephone"), validators=[Optional(), Length(max=32)])
    derivative = BooleanField(_l("The work is derivative or composite (based on another work)"))
    original_work = StringField(_l("Original work (title)"),
                                validators=[Optional(), Length(max=300)])
    original_author = StringField(_l("Author or right holder of the original work"),
                                  validators=[Optional(), Length(max=300)])
    authors = FieldList(FormField(AuthorParticularsForm), min_entries=0)
    submit = SubmitField(_l("Save"))

    def load(self, data: FilingParticulars) -> None:
        for name in ("applicant_iin", "applicant_citizenship", "applicant_address",
                     "applicant_phone", "derivative", "original_work", "original_author"):
            self[name].data = getattr(data, name)
        while len(self.authors.entries):
            self.authors.pop_entry()
        for author in data.authors:
            self.authors.append_entry(vars(author))

    def to_particulars(self) -> FilingParticulars:
        return FilingParticulars(
            applicant_iin=self.applicant_iin.data or "",
            applicant_citizenship=self.applicant_citizenship.data or "",
            applicant_address=self.applicant_address.data or "",
            applicant_phone=self.applicant_phone.data or "",
            derivative=bool(self.derivative.data),
            original_work=self.original_work.data or "",
            original_author=self.original_author.data or "",
            authors=[AuthorParticulars(**{k: (v or "") for k, v in entry.data.items()})
                     for entry in self.authors.entries])
