"""The “Is this registered?” form: a file, or a SHA-256 pasted instead."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, SubmitField
from wtforms.validators import Optional, Regexp

from registry.services.search import SHA256_RE


class LookupForm(FlaskForm):
    file = FileField(_l("Audio file, clip (5 seconds or more) or picture"),
                     render_kw={"accept": "audio/*,image/*"})
    sha256 = StringField(
        _l("…or the file's SHA-256"),
        validators=[Optional(), Regexp(SHA256_RE.pattern,
                                       message=_l("A SHA-256 is 64 hexadecimal characters."))],
        filters=[lambda v: v.strip().lower() if v else v],
        render_kw={"placeholder": "e3b0c44298fc1c14…", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Check"))

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.file.data and not self.sha256.data:
            self.file.errors = [_l("Choose a file, or paste a SHA-256.")]
            return False
        return True
