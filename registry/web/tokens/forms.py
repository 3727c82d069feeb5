"""Forms of the API token page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class CreateTokenForm(FlaskForm):
    name = StringField(
        _l("Token name"), validators=[DataRequired(), Length(max=100)],
        description=_l("What the token is for, e.g. “studio laptop” or “upload script”."))
    submit = SubmitField(_l("Create token"))


class RevokeTokenForm(FlaskForm):
    token_id = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Revoke"))
