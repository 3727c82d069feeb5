"""Deleting an account: the password and an explicit confirmation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SubmitField
from wtforms.validators import DataRequired


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired()])
    understood = BooleanField(
        _l("I understand: my works are withdrawn, my personal data is removed, and the "
           "ledger entries stay as anonymous digests."),
        validators=[DataRequired(_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Delete my account"))
