"""Core errors reach users in their language: every reason, through the web form and the API.

The core raises a reason with parameters (``registry.core.errors.MESSAGES``); the web
and API layers translate it. Each reason is driven through ``POST /works/new`` and
``POST /api/v1/works`` in Kazakh and Russian, and the answer must hold the catalogue's
translation and no English. The list driven is checked against the reasons the code
defines and raises, so a new reason cannot be added untested.
"""

from __future__ import annotations

import ast
import html
import io
import re
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from babel.support import Translations
from PIL import Image

from registry.core import errors as core_errors
from registry.core.errors import MESSAGES, TamgaError
from registry.core.iin import InvalidIIN
from registry.core.media import FILE_TYPE_NAMES

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "registry" / "translations"
LANGS = ("kk", "ru")

#: One set of parameters for each reason the code defines (and nothing else).
SAMPLES: dict[str, dict[str, object]] = {
    "row_missing": {"row": "Work 7"},
    "file_empty": {}, "file_too_large": {"megabytes": "200.0"},
    "unsupported_type": {"kind": "plain text"},
    "unsupported_codec": {"container": "WAV", "codec": "adpcm_g726"},
    "unsupported_video_container": {"container": "MP4"},
    "read_timeout": {}, "undecodable": {}, "unanalysable": {}, "no_readable_audio": {},
    "no_audio_track": {}, "audio_length_unknown": {}, "wav_truncated": {"missing": 4096},
    "audio_too_short": {"duration": "2.0", "minimum": "5"},
    "audio_too_long": {"minutes": "95", "limit": "60"},
    "fpcalc_missing": {}, "fingerprint_failed": {}, "audio_undecodable": {},
    "audio_truncated": {"announced": "30.0", "decoded": "12.5"}, "no_audio": {},
    "too_little_audio": {"minimum": "5"}, "silent": {},
    "image_type_refused": {}, "image_format_refused": {"format": "PCX"},
    "image_undecodable": {}, "too_many_pixels": {},
    "too_many_pixels_limit": {"pixels": "400,000,000", "limit": "178,956,970"},
    "image_too_small": {"width": 12, "height": 10, "minimum": 16}, "featureless": {},
    "video_undecodable": {}, "video_no_streams": {}, "video_nothing_usable": {},
    "video_too_long": {"minutes": "130", "limit": "120"}, "video_too_short": {},
    "video_length_unknown": {},
    "iin_digits": {}, "iin_length": {}, "iin_century": {}, "iin_date": {}, "iin_future": {},
    "iin_no_checksum": {}, "iin_checksum": {},
    "ledger_leaf_outside": {"index": 7, "size": 5}, "ledger_no_consistency": {"old": 9, "new": 4},
    "ledger_too_small": {"current": 3}, "ledger_entry_not_checkpointed": {},
    "ledger_entries_not_checkpointed": {},
    "certificate_language": {"lang": "de"},
}

CYRILLIC = re.compile(r"[\u0400-\u04ff]")


# ----------------------------------------------------------------------- the reasons in the code

@cache
def _raised_reasons() -> dict[str, set[str]]:
    """reason -> names of the error classes raising it, from every ``X.because("reason", …)``
    and ``InvalidIIN("reason", …)`` in the package."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "registry").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first, func = node.args[0], node.func
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            if (isinstance(func, ast.Attribute) and func.attr == "because"
                    and isinstance(func.value, ast.Name)):
                found.setdefault(first.value, set()).add(func.value.id)
            elif isinstance(func, ast.Name) and func.id == "InvalidIIN":
                found.setdefault(first.value, set()).add("InvalidIIN")
    return found


def _error_class(name: str) -> type[TamgaError]:
    return InvalidIIN if name == "InvalidIIN" else getattr(core_errors, name)


#: Modules whose errors a user reads (uploads, IINs, the public ledger, certificates).
USER_FACING = [*(ROOT / "registry" / "core").glob("*.py"), ROOT / "registry/core/ledger/store.py",
               ROOT / "registry/core/certificates/i18n.py", *(ROOT / "registry/kinds").glob("*.py"),
               *(ROOT / "registry/services").glob("*.py")]
_INTERNAL = {"LedgerError", "TamgaError",  # a broken ledger is a 500 with the generic message
             "BackupError"}  # `flask backup` speaks to the operator, in English like all CLI output


def test_the_reasons_driven_are_exactly_the_reasons_the_code_defines_and_raises():
    raised = _raised_reasons()
    assert set(SAMPLES) == set(MESSAGES)
    assert set(raised) == set(MESSAGES), (set(raised) ^ set(MESSAGES))
    for reason, params in SAMPLES.items():  # the samples fill every placeholder
        assert set(re.findall(r"%\((\w+)\)s", MESSAGES[reason])) == set(params), reason


def test_user_facing_core_errors_carry_a_reason_not_english_text():
    """No ``raise EmptyFile("The file is empty.")``: a literal message cannot be translated."""
    user_errors = {name for name, value in vars(core_errors).items()
                   if isinstance(value, type) and issubclass(value, TamgaError)} - _INTERNAL
    user_errors.add("InvalidIIN")
    literal = []
    for path in USER_FACING:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in user_errors and node.args
                    and isinstance(node.args[0], ast.JoinedStr | ast.Constant)
                    and node.func.id != "InvalidIIN"):
                literal.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert literal == []


# --------------------------------------------------------------------------- expectations

def _catalogue(lang: str) -> Translations:
    with (CATALOGUES / lang / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        return Translations(handle)


def expected(reason: str, lang: str) -> str:
    t = _catalogue(lang)
    params = {k: t.gettext(v) if isinstance(v, str) else v for k, v in SAMPLES[reason].items()}
    return t.gettext(MESSAGES[reason]) % params


def english(reason: str) -> str:
    return MESSAGES[reason] % SAMPLES[reason]


def assert_not_english(message: str, reason: str) -> None:
    assert message != english(reason)
    assert CYRILLIC.search(message), f"{reason}: an ASCII-only sentence: {message!r}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_catalogue_translation_differs_from_the_english(lang):
    for reason in MESSAGES:
        assert_not_english(expected(reason, lang), reason)
    t = _catalogue(lang)
    for name in FILE_TYPE_NAMES:
        assert CYRILLIC.search(t.gettext(name)), (lang, name)


# ------------------------------------------------------------------------ driven through both

def _raise(reason: str):
    cls = _error_class(sorted(_raised_reasons()[reason])[0])
    if cls is InvalidIIN:
        error: TamgaError = InvalidIIN(reason, "digits")
    else:
        error = cls.because(reason, SAMPLES[reason])

    def sniff(path):
        raise error

    return error, sniff


def _form(picture: Path, **overrides) -> dict:
    data = {
        "title": "Dombra at dawn", "work_type": "photograph", "language": "kk", "country": "KZ",
        "authors-0-full_name": "Aigerim Seitova", "authors-0-role": "photographer",
        "authors-0-share": "100", "registrant_capacity": "author", "creation": "2025",
        "ai_use": "none", "licence": "all-rights-reserved", "visibility": "public",
        "file": (io.BytesIO(picture.read_bytes()), picture.name),
    }
    return {**data, **overrides}


def _page_text(response) -> str:
    return " ".join(html.unescape(response.get_data(as_text=True)).split())


def _work_type(path: Path) -> dict[str, str]:
    if path.suffix == ".wav":
        return {"work_type": "sound_recording", "authors-0-role": "performer"}
    return {"work_type": "photograph", "authors-0-role": "photographer"}


def _web(client, path: Path, lang: str):
    return client.post("/works/new", data=_form(path, **_work_type(path)),
                       content_type="multipart/form-data", headers={"Accept-Language": lang})


def _api(client, account, path: Path, lang: str):
    data = {"title": "Dombra at dawn", "work_type": _work_type(path)["work_type"],
            "file": (io.BytesIO(path.read_bytes()), path.name)}
    return client.post("/api/v1/works", data=data, content_type="multipart/form-data",
                       headers={**account.headers, "Accept-Language": lang})


@pytest.fixture
def signed_in(app, client, make_account, accounts):
    app.config["TAMGA_WORKER"] = "sync"
    account = make_account()
    accounts.login()
    return account


@pytest.mark.parametrize("lang", LANGS)
def test_every_reason_is_translated_on_the_web_form_and_in_the_api(
        lang, client, signed_in, media, monkeypatch):
    from registry.services import works

    for reason in MESSAGES:
        error, sniff = _raise(reason)
        monkeypatch.setattr(works, "sniff", sniff)
        want = expected(reason, lang)
        assert_not_english(want, reason)

        page = _web(client, media.photo(1), lang)
        assert page.status_code == error.http_status, reason
        text = _page_text(page)
        assert want in text, (reason, lang)
        assert english(reason) not in text, (reason, lang)

        answer = _api(client, signed_in, media.photo(1), lang)
        assert answer.status_code == error.http_status, reason
        body = answer.get_json()["error"]
        assert body["code"] == error.code
        assert body["message"] == want, (reason, lang)


# ------------------------------------------------------------- real files, no monkeypatching

def _tone(path: Path, seconds: float, volume: float = 0.5) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={seconds}", "-af", f"volume={volume}",
                    str(path)], check=True, timeout=60)
    return path


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, tuple[Path, str, int]]:
    """file name -> (file, the reason it must be refused for, HTTP status)."""
    folder = tmp_path_factory.mktemp("bad-files")
    empty = folder / "empty.jpg"
    empty.write_bytes(b"")
    text = folder / "lyrics.mp3"
    text.write_text("These are my lyrics, not a song.\n" * 40)
    tiny = folder / "tiny.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (10, 12, 3), dtype=np.uint8)
                    ).save(tiny)
    flat = folder / "flat.png"
    Image.new("RGB", (400, 300), (200, 30, 30)).save(flat)
    broken = folder / "broken.png"
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (300, 400, 3), dtype=np.uint8)
                    ).save(buffer, format="PNG")
    broken.write_bytes(buffer.getvalue()[:3000])
    short = _tone(folder / "short.wav", 2.0)
    return {
        "empty": (empty, "file_empty", 422), "text": (text, "unsupported_type", 415),
        "tiny": (tiny, "image_too_small", 422), "flat": (flat, "featureless", 422),
        "broken": (broken, "image_undecodable", 422), "short": (short, "audio_too_short", 422),
    }


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", ["empty", "text", "tiny", "flat", "broken", "short"])
def test_real_bad_files_are_refused_in_the_users_language(name, lang, client, signed_in,
                                                          bad_files):
    path, reason, status = bad_files[name]
    t = _catalogue(lang)
    template = t.gettext(MESSAGES[reason])
    assert template != MESSAGES[reason]
    # The parameters come from the file: match the translated template around them.
    pattern = re.escape(template)
    pattern = re.sub(r"%\\\(\w+\\\)s", ".+?", pattern)

    page = _web(client, path, lang)
    assert page.status_code == status
    text = _page_text(page)
    assert re.search(pattern, text), (name, lang)
    answer = _api(client, signed_in, path, lang)
    assert answer.status_code == status
    message = answer.get_json()["error"]["message"]
    assert re.fullmatch(pattern, message), (name, lang, message)
    assert CYRILLIC.search(message)
    if reason == "unsupported_type":  # the name of the type is translated too
        assert t.gettext("plain text") in message and "plain text" not in message


@pytest.mark.parametrize(("lang", "word"), [("kk", "бақылау"), ("ru", "контрольн")])
def test_an_iin_typo_is_explained_in_the_users_language(lang, word, client, accounts):
    accounts.create()
    accounts.login()
    form = {"display_name": "Aigerim", "legal_name_cyrillic": "Әйгерім Сейітова",
            "legal_name_latin": "Aigerim Seitova", "country": "KZ", "city": "Алматы",
            "phone": "+7 701 123 45 67", "locale": "", "timezone": "Asia/Almaty",
            "iin": "850115452604"}
    page = client.post("/account/profile", data=form, headers={"Accept-Language": lang})
    text = _page_text(page)
    assert expected("iin_checksum", lang) in text
    assert word in text.lower() and MESSAGES["iin_checksum"] not in text


@pytest.mark.parametrize("lang", LANGS)
def test_a_failed_jobs_stored_english_message_is_shown_translated(lang, app):
    """A background job stores the English default; pages and the API translate it back."""
    from registry.i18n import stored_error_text

    with app.test_request_context(headers={"Accept-Language": lang}):
        for reason in MESSAGES:
            assert stored_error_text(english(reason)) == expected(reason, lang), reason
        assert stored_error_text("internal error (KeyError: 'x')") == (
            "internal error (KeyError: 'x')")
