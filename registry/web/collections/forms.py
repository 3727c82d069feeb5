"""Forms of the collection pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from registry.services.collections import DESCRIPTION_MAX, KIND_LABELS, TITLE_MAX
from registry.web.forms_common import choices


class CollectionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    kind = SelectField(_l("Kind of collection"), choices=choices(KIND_LABELS.items()))
    description = TextAreaField(_l("Description"),
                                validators=[Optional(), Length(max=DESCRIPTION_MAX)])


def chosen_works(formdata) -> list[str]:
    """The ticked works (``works``), ordered by their position fields (``pos-NUMBER``),
    then by the order of the page; a position that is not a number counts as last."""
    ticked = formdata.getlist("works")

    def position(item: tuple[int, str]) -> tuple[int, int]:
        index, number = item
        raw = (formdata.get(f"pos-{number}") or "").strip()
        return (int(raw) if raw.isdigit() else 10**6, index)

    return [number for _, number in sorted(enumerate(ticked), key=position)]
