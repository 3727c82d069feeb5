"""Account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from registry.core.errors import ValidationFailed
from registry.core.iin import parse_iin
from registry.i18n import LANGUAGES, error_message
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
LOCALE_CHOICES = list(LANGUAGES.items())
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
    submit = SubmitField(_l("Change password"))


class TwoFactorForm(FlaskForm):
    """The login's second step: a code from the app, or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)],
                       description=_l("The 6 digits your authenticator app shows now, or one "
                                      "of your recovery codes."))
    submit = SubmitField(_l("Continue"))


class TwoFactorConfirmForm(FlaskForm):
    code = StringField(_l("Code from the app"), validators=[DataRequired(), Length(max=32)])
    submit = SubmitField(_l("Turn on two-factor sign-in"))


class RecoveryCodesForm(FlaskForm):
    code = StringField(_l("Code from the app"), validators=[DataRequired(), Length(max=32)])
    submit = SubmitField(_l("Make new recovery codes"))


class TwoFactorDisableForm(FlaskForm):
    password = PasswordField(_l("Current password"), validators=[DataRequired()])
    code = StringField(_l("Code from the app"), validators=[DataRequired(), Length(max=32)])
    submit = SubmitField(_l("Turn off two-factor sign-in"))


def validate_iin_field(form: FlaskForm, field: StringField) -> None:
    from wtforms.validators import ValidationError

    if not field.data:
        return
    try:
        parse_iin(field.data)
    except ValidationFailed as exc:
        raise ValidationError(error_message(exc)) from None




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
    ai_training_opt_out_default = BooleanField(
        _l("Reserve AI training for my new works by default"),
        description=_l("Published as TDMRep, robots.txt and Content-Usage rules for public works."))
    match_emails = RadioField(
        _l("When a later registration matches one of my works, e-mail me"),
        choices=choices([("immediate", _l("at once, one e-mail per match")),
                         ("daily", _l("once a day, a digest of the new matches"))]),
        default="immediate")
    public_profile = BooleanField(
        _l("Show a public page of my public works"),
        description=_l("Off by default. The page shows your display name and your public "
                       "works only; private works are never listed."))
    submit = SubmitField(_l("Save profile"))
