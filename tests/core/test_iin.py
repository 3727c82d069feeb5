"""Kazakh IIN: the official two-pass check digit and the encoded birth date."""

from datetime import date

import pytest

from registry.core.iin import InvalidIIN, check_digit, parse_iin

TODAY = date(2026, 11, 21)

VALID = [
    ("850115452605", date(1985, 1, 15), "female"),
    ("901230318153", date(1990, 12, 30), "male"),
    ("000315501668", date(2000, 3, 15), "male"),
    ("051226613180", date(2005, 12, 26), "female"),
    ("660101360910", date(1966, 1, 1), "male"),
    ("991130439096", date(1999, 11, 30), "female"),
    ("880715496032", date(1988, 7, 15), "female"),
    ("010203508241", date(2001, 2, 3), "male"),
    ("750312462810", date(1975, 3, 12), "female"),
    ("830221419933", date(1983, 2, 21), "female"),
    ("000229500008", date(2000, 2, 29), "male"),
]


@pytest.mark.parametrize(("iin", "born", "sex"), VALID)
def test_valid_iins_decode_birth_date_and_sex(iin, born, sex):
    info = parse_iin(iin, today=TODAY)
    assert info.birth_date == born
    assert info.sex == sex


def test_check_digit_matches_hand_computation():
    # 8*1+5*2+0*3+1*4+1*5+5*6+4*7+5*8+2*9+6*10+0*11 = 203; 203 mod 11 = 5
    assert check_digit("85011545260") == 5


def test_second_pass_weights_are_used_when_first_gives_ten():
    digits = "00000000010"  # first pass: 1*10 = 10 -> second pass: 1*1 = 1
    assert check_digit(digits) == 1


def test_no_valid_iin_when_both_passes_give_ten():
    # 85011540090: both weighted sums are 10 modulo 11, so no IIN starts with it.
    assert check_digit("85011540090") is None
    for last in "0123456789":
        with pytest.raises(InvalidIIN) as caught:
            parse_iin("85011540090" + last, today=TODAY)
        assert caught.value.part == "checksum"


@pytest.mark.parametrize(
    ("iin", "part"),
    [
        ("850115452604", "checksum"),  # last digit off by one
        ("850115462605", "checksum"),  # a serial digit changed
        ("85011545260", "length"),
        ("8501154526055", "length"),
        ("85011545260a", "digits"),
        ("851315452605", "date"),  # month 13
        ("850230452605", "date"),  # 30 February
        ("850115752605", "century"),  # 7th digit 7
        ("850115052605", "century"),  # 7th digit 0
        ("300115552605", "date"),  # 2030: in the future
    ],
)
def test_invalid_iins_name_the_wrong_part(iin, part):
    with pytest.raises(InvalidIIN) as caught:
        parse_iin(iin, today=TODAY)
    assert caught.value.part == part


def test_spaces_are_tolerated():
    assert parse_iin("850115 452605", today=TODAY).iin == "850115452605"
