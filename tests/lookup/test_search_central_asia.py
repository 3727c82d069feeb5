"""Kyrgyz and Uzbek titles are found across scripts, as Kazakh ones are."""

from __future__ import annotations

import pytest

from registry.core.text_normalize import fold
from tests.lookup.test_text_search import numbers


@pytest.mark.parametrize(("cyrillic", "latin"), [
    # Uzbek: the Latin alphabet (oʻ gʻ with U+02BB, x, q, sh) against Cyrillic (ў ғ ҳ қ)
    ("Ўзбекистон", "Oʻzbekiston"), ("Халқ қўшиғи", "Xalq qoʻshigʻi"),
    ("Ғафур Ғулом", "Gʻafur Gʻulom"), ("Тошкент оқшоми", "Toshkent oqshomi"),
    ("Юлдуз Усмонова", "Yulduz Usmonova"), ("Шаҳрисабз", "Shahrisabz"),
    ("Ўзбекистон", "O'zbekiston"),  # typed with a plain apostrophe
    # Kyrgyz: Cyrillic (ң ө ү ы) against the usual transliterations
    ("Жаңы жыл", "Jangy jyl"), ("Жаңы жыл", "Jañy jıl"), ("Жаңы жыл", "Zhangy zhyl"),
    ("Көк-Жал", "Kök-Jal"), ("Ысык-Көл", "Ysyk-Köl"), ("Үмүт", "Ümüt"),
    ("Айтматов", "Aitmatov"),
])
def test_fold_meets_across_uzbek_and_kyrgyz_scripts(cyrillic, latin):
    assert fold(cyrillic) == fold(latin)


def test_uzbek_and_kyrgyz_titles_are_found_in_the_other_script(app, catalogue):
    uz_latin = catalogue.add("Oʻzbekiston — Vatanim manim")
    uz_cyrillic = catalogue.add("Халқ қўшиғи")
    ky = catalogue.add("Жаңы жылдын ыры")
    catalogue.add("Жаңбыр")  # a Kazakh title that must not come up for the others
    assert numbers(app, "Ўзбекистон ватаним") == [uz_latin]
    assert numbers(app, "xalq qoʻshigʻi") == [uz_cyrillic]
    assert numbers(app, "Jangy jyldyn yry") == [ky]
    assert numbers(app, "Jañy jıldın ırı") == [ky]
