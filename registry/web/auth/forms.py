"""Account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from registry.core.errors import ValidationFailed
from registry.core.iin import parse_iin
from registry.web.forms_common import choices

COUNTRY_CHOICES = [
    ("", _l("— not set —")),
    ("KZ", _l("Kazakhstan")),
    ("KG", _l("Kyrgyzstan")),
    ("UZ", _l("Uzbekistan")),
    ("TJ", _l("Tajikistan")),
    ("TM", _l("Turkmenistan")),
    ("other", _l("Other country")),
]
LOCALE_CHOICES = [("kk", "Қазақша"), ("ru", "Русский"), ("en", "English")]
TIMEZONE_CHOICES = [
    ("Asia/Almaty", _l("Almaty, Astana (UTC+5)")),
    ("Asia/Aqtobe", _l("Aktobe (UTC+5)")),
    ("Asia/Aqtau", _l("Aktau (UTC+5)")),
    ("Asia/Bishkek", _l("Bishkek (UTC+6)")),
    ("Asia/Tashkent", _l("Tashkent (UTC+5)")),
    ("Asia/Dushanbe", _l("Dushanbe (UTC+5)")),
    ("Asia/Ashgabat", _l("Ashgabat (UTC+5)")),
    ("Europe/Moscow", _l("Moscow (UTC+3)")),
    ("UTC", _l("UTC")),
]


class SignupForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    display_name = StringField(
        _l("Display name"),
        validators=[DataRequired(), Length(min=2, max=120)],
        description=_l("Shown publicly next to your registrations."),
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=10, max=200)],
        description=_l("At least 10 characters; common passwords are refused."),
    )
    password_confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords do not match."))],
    )
    submit = SubmitField(_l("Create account"))


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Remember me on this device"))
    submit = SubmitField(_l("Log in"))


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    submit = SubmitField(_l("Send reset link"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=10, max=200)]
    )
    password_confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords do not match."))],
    )
    submit = SubmitField(_l("Set new password"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=10, max=200)]
    )
    password_confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords do not match."))],
    )
    end_other_sessions = BooleanField(
        _l("Log out my other devices and browsers"), default=True
    )
    submit = SubmitField(_l("Change password"))


def validate_iin_field(form: FlaskForm, field: StringField) -> None:
    from wtforms.validators import ValidationError

    if not field.data:
        return
    try:
        parse_iin(field.data)
    except ValidationFailed as exc:
        raise ValidationError(IIN_MESSAGES[exc.details["part"]]) from None


IIN_MESSAGES = {
    "digits": _l("An IIN contains digits only."),
    "length": _l("An IIN has exactly 12 digits."),
    "century": _l("The 7th digit of an IIN (century and sex) must be 1 to 6."),
    "date": _l("The first six digits of the IIN must be a real birth date (YYMMDD)."),
    "checksum": _l("The last digit of the IIN (the check digit) does not match: check for a typo."),
}


class ProfileForm(FlaskForm):
    display_name = StringField(
        _l("Display name"), validators=[DataRequired(), Length(min=2, max=120)]
    )
    legal_name_cyrillic = StringField(
        _l("Full legal name (Cyrillic)"), validators=[Optional(), Length(max=200)]
    )
    legal_name_latin = StringField(
        _l("Full legal name (Latin)"), validators=[Optional(), Length(max=200)]
    )
    country = SelectField(_l("Country"), choices=choices(COUNTRY_CHOICES), validate_choice=True)
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    phone = StringField(
        _l("Phone (optional)"), validators=[Optional(), Length(max=32)],
        description=_l("For example +7 701 123 45 67"),
    )
    iin = StringField(
        _l("IIN (Kazakhstan, optional)"),
        validators=[Optional(), validate_iin_field],
        description=_l("12 digits; checked with the official check digit."),
    )
    locale = SelectField(_l("Language"), choices=choices(LOCALE_CHOICES))
    timezone = SelectField(_l("Time zone"), choices=choices(TIMEZONE_CHOICES))
    submit = SubmitField(_l("Save profile"))
