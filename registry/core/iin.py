"""Kazakhstan's individual identification number (IIN, ЖСН / ИИН).

Twelve digits: ``YYMMDD`` birth date, one digit for century and sex, four
digits of serial number, and a check digit. The check digit is the weighted sum
of the first eleven digits modulo 11 with weights 1..11; when that gives 10, a
second pass uses weights 3..11, 1, 2; a second 10 means no valid IIN exists for
those eleven digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from registry.core.errors import ValidationFailed

FIRST_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

# Seventh digit -> (century start, sex)
CENTURY_SEX = {
    "1": (1800, "male"),
    "2": (1800, "female"),
    "3": (1900, "male"),
    "4": (1900, "female"),
    "5": (2000, "male"),
    "6": (2000, "female"),
}


class InvalidIIN(ValidationFailed):
    """``part`` names what is wrong: length, digits, century, date or checksum."""

    code = "invalid_iin"

    def __init__(self, reason: str, part: str) -> None:
        error = ValidationFailed.because(reason)
        super().__init__(error.message, reason=reason, part=part)
        self.part = part


@dataclass(frozen=True)
class IINInfo:
    iin: str
    birth_date: date
    sex: str


def check_digit(first_eleven: str) -> int | None:
    """The control digit for eleven digits, or None when none exists."""
    digits = [int(c) for c in first_eleven]
    for weights in (FIRST_WEIGHTS, SECOND_WEIGHTS):
        value = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if value != 10:
            return value
    return None


def parse_iin(raw: str, *, today: date | None = None) -> IINInfo:
    """Validate an IIN and decode its birth date and sex, or raise InvalidIIN."""
    iin = raw.strip().replace(" ", "")
    if not iin.isdigit():
        raise InvalidIIN("iin_digits", "digits")
    if len(iin) != 12:
        raise InvalidIIN("iin_length", "length")
    century_sex = CENTURY_SEX.get(iin[6])
    if century_sex is None:
        raise InvalidIIN("iin_century", "century")
    century, sex = century_sex
    try:
        born = date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        raise InvalidIIN("iin_date", "date") from None
    if born > (today or date.today()):
        raise InvalidIIN("iin_future", "date")
    expected = check_digit(iin[:11])
    if expected is None:
        raise InvalidIIN("iin_no_checksum", "checksum")
    if int(iin[11]) != expected:
        raise InvalidIIN("iin_checksum", "checksum")
    return IINInfo(iin=iin, birth_date=born, sex=sex)
