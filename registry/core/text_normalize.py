"""Folding text so that a search finds a title however it was typed.

Kazakh is written in Cyrillic and, increasingly, in the Latin alphabet (the
2021 alphabet: ä ğ q ñ ö ū ü h ı i ş ç y, and the older 2017 apostrophe and
2018 acute-accent forms); Uzbek officially in Latin (oʻ gʻ sh ch x q) and still
often in Cyrillic (ў ғ қ ҳ); Kyrgyz in Cyrillic (ң ө ү) with several Latin
transliterations (ñ/ng, ö/o, ü/u); Russian names are romanised in several ways.
Every form is folded to one lossy ASCII *skeleton* on both sides (the indexed
text and the query), so "Қазақ әні", "Qazaq äni", "Qazaq a'ni" and "KAZAK ANI"
all become ``kazak ani``, "Ўзбекистон" and "Oʻzbekiston" ``ozbekiston``, "Жаңы
жыл" and "Jangy jyl" ``jani jil``.

The folding is deliberately coarse (q and k, y and i, the front and back
vowels fall together): it finds more than an exact spelling would, and the
ranking puts the closest titles first. Plain Python, no Flask.
"""

from __future__ import annotations

import re
import unicodedata

# Cyrillic (Kazakh and Russian letters) to the skeleton alphabet.
_CYRILLIC = {
    "а": "a", "ә": "a", "б": "b", "в": "v", "г": "g", "ғ": "g", "д": "d", "е": "e",
    "ё": "e", "ж": "j", "з": "z", "и": "i", "й": "i", "і": "i", "к": "k", "қ": "k",
    "л": "l", "м": "m", "н": "n", "ң": "n", "о": "o", "ө": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ұ": "u", "ү": "u", "ф": "f", "х": "h", "һ": "h",
    "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "", "ы": "i", "ь": "", "э": "e",
    "ю": "iu", "я": "ia",
    # Letters of the neighbouring Cyrillic alphabets (Kyrgyz, Tajik, Uzbek).
    # Uzbek ў is written oʻ in the Latin alphabet, so it folds to o (the apostrophe goes).
    "ҳ": "h", "ҷ": "j", "ӣ": "i", "ӯ": "u", "ў": "o", "ҙ": "z", "ҫ": "s", "є": "e",
    "ї": "i",
}
# Latin letters that the accent stripping below would fold wrongly.
_LATIN = {
    "ş": "sh", "ç": "ch", "ı": "i", "ğ": "g", "ǵ": "g", "ñ": "n", "ń": "n", "ý": "u",
    "ß": "ss", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "œ": "oe",
}
_APOSTROPHES = "'’ʼʻ`´‘"
# 2017 alphabet: s' = ш, c' = ч, y' = ү; any other letter's apostrophe only marks it.
_APOSTROPHE_FORMS = re.compile(rf"([a-z])[{_APOSTROPHES}]")
_APOSTROPHE_MAP = {"s": "sh", "c": "ch", "y": "u"}
# Romanisations that mean one skeleton letter (kh = х = h, zh = ж = j, ...): Uzbek Latin
# writes х as x (xalq = халқ), Kyrgyz transliteration writes ң as ng (jangy = жаңы).
_DIGRAPHS = (("kh", "h"), ("zh", "j"), ("ng", "n"), ("q", "k"), ("y", "i"), ("w", "u"),
             ("x", "h"))
_NON_WORD = re.compile(r"[^a-z0-9]+")
_TRANSLATE = str.maketrans({**_CYRILLIC, **_LATIN})


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str | None) -> str:
    """The search skeleton of ``text``: lower-case ASCII words separated by one space."""
    if not text:
        return ""
    lowered = unicodedata.normalize("NFKC", text).lower()
    latin = _strip_accents(lowered.translate(_TRANSLATE))
    latin = _APOSTROPHE_FORMS.sub(lambda m: _APOSTROPHE_MAP.get(m[1], m[1]), latin)
    for pair, single in _DIGRAPHS:
        latin = latin.replace(pair, single)
    return _NON_WORD.sub(" ", latin).strip()


def tokens(text: str | None) -> list[str]:
    """The folded words of ``text``, in order, without duplicates."""
    return list(dict.fromkeys(fold(text).split()))


# Kazakh Cyrillic -> the 2021 Latin alphabet, for showing a title in the other script.
_KK_LATIN = {
    "а": "a", "ә": "ä", "б": "b", "в": "v", "г": "g", "ғ": "ğ", "д": "d", "е": "e",
    "ё": "io", "ж": "j", "з": "z", "и": "i", "й": "i", "і": "ı", "к": "k", "қ": "q",
    "л": "l", "м": "m", "н": "n", "ң": "ñ", "о": "o", "ө": "ö", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ұ": "ū", "ү": "ü", "ф": "f", "х": "h", "һ": "h",
    "ц": "ts", "ч": "ç", "ш": "ş", "щ": "şş", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "iu", "я": "ia",
}


def kazakh_latin(text: str) -> str:
    """Kazakh Cyrillic written in the 2021 Latin alphabet (other characters unchanged)."""
    out = []
    for ch in text:
        latin = _KK_LATIN.get(ch.lower())
        if latin is None:
            out.append(ch)
        elif ch.isupper() and latin:
            out.append(latin[0].upper() + latin[1:])
        else:
            out.append(latin)
    return "".join(out)
