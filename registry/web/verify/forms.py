from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, SubmitField
from wtforms.validators import Length, Optional


class VerifyForm(FlaskForm):
    number = StringField(_l("Registration number"), validators=[Optional(), Length(max=32)],
                         description=_l("For example KZ-2026-000123"))
    certificate = FileField(_l("…or a certificate (PDF)"))
    original = FileField(_l("The original file (optional)"),
                         description=_l("Its SHA-256 is computed and compared with the "
                                        "registered hash; the file is not stored."))
    submit = SubmitField(_l("Verify"))
