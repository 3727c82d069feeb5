"""Forms of the co-author pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional


class InviteForm(FlaskForm):
    author = SelectField(_l("Author"), choices=[], validate_choice=False)
    email = StringField(_l("Their e-mail"), validators=[DataRequired(), Email(), Length(max=254)],
                        description=_l("They confirm with an account under this e-mail; "
                                       "if they have none, the e-mail asks them to sign up."))


class AnswerForm(FlaskForm):
    note = TextAreaField(_l("Why you decline (optional, seen by the owner)"),
                         validators=[Optional(), Length(max=2000)])
