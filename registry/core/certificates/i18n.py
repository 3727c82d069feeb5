"""Labels and vocabularies of Tamga's PDFs in Kazakh, Russian, English, Kyrgyz and Uzbek.

The texts live in the same gettext catalogues as the pages
(``registry/translations/<lang>/LC_MESSAGES/messages.po``, context ``pdf``), so
``tests/test_translations.py`` covers the PDFs too. The tables below name each
label and vocabulary term by its English text (the msgid); :func:`label` and
:func:`term` read the catalogue of a language with ``babel.support.Translations``
(no Flask). A layout language is one code (``"kk"``, ``"ru"``, ``"en"``, ``"ky"``,
``"uz"``) or two joined by ``+``; ``"kk+ru"`` is the bilingual layout of official
Kazakh documents (Kazakh first, Russian under it), ``"ky+ru"`` and ``"uz+ru"`` the
same for Kyrgyz and Uzbek.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from registry.core.errors import ValidationFailed

LANGUAGES = ("kk", "ru", "en", "ky", "uz")
DEFAULT_LANG = "kk+ru"
#: The gettext context of every PDF text (a label may read otherwise on a page).
CONTEXT = "pdf"
#: The package's catalogues; ``make`` compiles each ``messages.po`` to ``messages.mo``.
CATALOGUES = Path(__file__).resolve().parents[2] / "translations"


def NP_(context: str, text: str) -> str:
    """Mark ``text`` (in ``context``) for the catalogues; extracted with ``-k NP_:1c,2``."""
    return text


LABELS: dict[str, str] = {
    "certificate_title": NP_("pdf", "Certificate of registration"),
    "registry_name": NP_("pdf", "Registry of copyright works"),
    "registration_number": NP_("pdf", "Registration number"),
    "registered_at": NP_("pdf", "Registration time"),
    "almaty_time": NP_("pdf", "Almaty time"),
    "status": NP_("pdf", "Status"),
    "registrant": NP_("pdf", "Registrant"),
    "work_title": NP_("pdf", "Title of the work"),
    "original_title": NP_("pdf", "Original title"),
    "work_type": NP_("pdf", "Kind of work"),
    "authors": NP_("pdf", "Authors"),
    "share": NP_("pdf", "share"),
    "coauthor_confirmed": NP_("pdf", "confirmed %(date)s"),
    "coauthor_pending": NP_("pdf", "confirmation pending"),
    "coauthor_declined": NP_("pdf", "declined"),
    "created_on": NP_("pdf", "Date of creation"),
    "publication": NP_("pdf", "Publication"),
    "published": NP_("pdf", "Published"),
    "not_published": NP_("pdf", "Not published"),
    "ai_declaration": NP_("pdf", "Use of artificial intelligence"),
    "ai_tools": NP_("pdf", "AI tools"),
    "ai_label_ai_generated": NP_("pdf", "AI-GENERATED"),
    "ai_label_ai_assisted": NP_("pdf", "MADE WITH AI ASSISTANCE"),
    "content_credentials": NP_("pdf", "Copy with Content Credentials (C2PA) signed by Tamga"),
    "human_contribution": NP_("pdf", "Human creative contribution"),
    "licence": NP_("pdf", "Licence"),
    "files_section": NP_("pdf", "Files and fingerprints"),
    "fingerprint": NP_("pdf", "Content fingerprint"),
    "iscc": NP_("pdf", "ISCC code"),
    "key_frames": NP_("pdf", "Key frames"),
    "ledger_section": NP_("pdf", "Public ledger"),
    "leaf_index": NP_("pdf", "Ledger entry index"),
    "checkpoint": NP_("pdf", "Checkpoint"),
    "attestations": NP_("pdf", "Outside attestations"),
    "attested_by": NP_("pdf", "Timestamped by %(n)s authorities, cosigned by %(m)s witnesses"),
    "tree_size": NP_("pdf", "tree size"),
    "root_hash": NP_("pdf", "Root hash"),
    "signature": NP_("pdf", "Registry signature"),
    "inclusion_proof": NP_("pdf", "Inclusion proof"),
    "proof_empty": NP_("pdf", "empty: the entry is the root of the tree"),
    "verification_section": NP_("pdf", "Verification"),
    "verify_online": NP_("pdf", "Verify online"),
    "verify_offline": NP_(
        "pdf",
        "This PDF carries its own proof (the attached file tamga-proof.json) and is signed by "
        "the registry. Anyone can check it without the Tamga server:"
    ),
    "verify_offline_checks": NP_(
        "pdf",
        "It confirms the registry's signature, that the entry is included in the checkpoint, and "
        "that the SHA-256 of the original file equals the registered hash."
    ),
    "not_stated": NP_("pdf", "not stated"),
    "page": NP_("pdf", "page"),
    "report_title": NP_("pdf", "Comparison report"),
    "case_number": NP_("pdf", "Case number"),
    "generated_at": NP_("pdf", "Generated"),
    "parties": NP_("pdf", "Parties"),
    "works_compared": NP_("pdf", "Works compared"),
    "similarity": NP_("pdf", "Similarity"),
    "similarity_note": NP_(
        "pdf",
        "The similarity score is computed automatically and is not a legal finding."
    ),
    "audio_alignment": NP_("pdf", "Audio alignment"),
    "query_time": NP_("pdf", "Questioned work, s"),
    "work_time": NP_("pdf", "Registered work, s"),
    "matched_segments": NP_("pdf", "Matched segments"),
    "detected_change": NP_("pdf", "Detected change"),
    "change_speed": NP_("pdf", "speed"),
    "change_pitch": NP_("pdf", "pitch, semitones"),
    "matched_duration": NP_("pdf", "Total matched duration"),
    "image_comparison": NP_("pdf", "Image comparison"),
    "video_comparison": NP_("pdf", "Video frames compared"),
    "frame_bits": NP_("pdf", "difference, bits"),
    "distances": NP_("pdf", "Distances"),
    "transformation": NP_("pdf", "Detected transformation"),
    "timeline": NP_("pdf", "Timeline"),
    "decision": NP_("pdf", "Decision"),
    "reason": NP_("pdf", "Reason"),
    "no_decision": NP_("pdf", "No decision yet"),
    "query_work": NP_("pdf", "Questioned work"),
    "registered_work": NP_("pdf", "Registered work"),
    "not_registered": NP_("pdf", "not registered"),
    "seconds": NP_("pdf", "s"),
}

VOCABULARIES: dict[str, dict[str, str]] = {
    "work_type": {
        "musical_work": NP_("pdf", "Musical work"),
        "sound_recording": NP_("pdf", "Sound recording"),
        "photograph": NP_("pdf", "Photograph"),
        "artwork": NP_("pdf", "Work of visual art"),
        "audiovisual": NP_("pdf", "Audiovisual work"),
        "other": NP_("pdf", "Other work"),
    },
    "role": {
        "author": NP_("pdf", "Author"),
        "composer": NP_("pdf", "Composer"),
        "lyricist": NP_("pdf", "Lyricist"),
        "arranger": NP_("pdf", "Arranger"),
        "performer": NP_("pdf", "Performer"),
        "producer": NP_("pdf", "Producer"),
        "photographer": NP_("pdf", "Photographer"),
        "artist": NP_("pdf", "Artist"),
        "illustrator": NP_("pdf", "Illustrator"),
        "designer": NP_("pdf", "Designer"),
        "director": NP_("pdf", "Director"),
        "screenwriter": NP_("pdf", "Screenwriter"),
        "cinematographer": NP_("pdf", "Cinematographer"),
        "translator": NP_("pdf", "Translator"),
        "other": NP_("pdf", "Other role"),
    },
    "ai_use": {
        "none": NP_("pdf", "No AI used"),
        "ai_assisted": NP_("pdf", "Created with AI assistance"),
        "ai_generated": NP_("pdf", "Generated by AI"),
    },
    "licence": {
        "all_rights_reserved": NP_("pdf", "All rights reserved"),
        "cc_by": NP_("pdf", "CC BY 4.0"),
        "cc_by_sa": NP_("pdf", "CC BY-SA 4.0"),
        "cc_by_nd": NP_("pdf", "CC BY-ND 4.0"),
        "cc_by_nc": NP_("pdf", "CC BY-NC 4.0"),
        "cc_by_nc_sa": NP_("pdf", "CC BY-NC-SA 4.0"),
        "cc_by_nc_nd": NP_("pdf", "CC BY-NC-ND 4.0"),
        "cc0": NP_("pdf", "CC0 1.0 (public domain dedication)"),
    },
    "status": {
        "registered": NP_("pdf", "Registered"),
        "conflict": NP_("pdf", "Possible conflict found"),
        "questioned": NP_("pdf", "Questioned"),
        "withdrawn": NP_("pdf", "Withdrawn"),
    },
    "file_role": {
        "main": NP_("pdf", "Main file"),
        "supporting": NP_("pdf", "Supporting file"),
    },
    "party_role": {
        "claimant": NP_("pdf", "Claimant"),
        "respondent": NP_("pdf", "Respondent"),
    },
    "transformation": {
        "none": NP_("pdf", "None"),
        "crop": NP_("pdf", "Crop"),
        "resize": NP_("pdf", "Resize"),
        "rotate": NP_("pdf", "Rotation"),
        "mirror": NP_("pdf", "Mirror image"),
        "colour": NP_("pdf", "Colour change"),
        "recompress": NP_("pdf", "Recompression"),
    },
    "outcome": {
        "upheld": NP_("pdf", "Claim upheld"),
        "rejected": NP_("pdf", "Claim rejected"),
        "settled": NP_("pdf", "Settled by the parties"),
        "withdrawn": NP_("pdf", "Claim withdrawn"),
        "referred_to_court": NP_("pdf", "Referred to court"),
    },
    "fingerprint_kind": {
        "audio": NP_("pdf", "audio"),
        "image": NP_("pdf", "image"),
        "video": NP_("pdf", "video"),
    },
}


class MissingTranslation(LookupError):
    """A PDF text has no translation in a catalogue: run ``make translations-update``."""


@cache
def catalogue(lang: str) -> Translations:
    """The compiled catalogue of ``lang``; compiled here from the ``.po`` when the ``.mo``
    is missing or older (a checkout where ``make`` has not run yet)."""
    po = CATALOGUES / lang / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as handle:
            return Translations(handle, domain="messages")
    with po.open("rb") as handle:
        compiled = BytesIO()
        write_mo(compiled, read_po(handle, locale=lang))
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def translate(text: str, lang: str, *, context: str = CONTEXT) -> str:
    """``text`` (an English msgid of ``context``) in ``lang``; never English by accident."""
    if lang not in LANGUAGES:
        raise ValidationFailed.because("certificate_language", {"lang": lang}, lang=lang)
    # gettext keeps a text with a context under "context\x04msgid"
    found = catalogue(lang)._catalog.get(f"{context}\x04{text}")
    if not found:
        raise MissingTranslation(f"{lang}: no translation of {text!r} (context {context!r})")
    return str(found)


def parse_lang(lang: str) -> tuple[str, ...]:
    """``"kk+ru"`` -> ``("kk", "ru")``; one or two distinct known codes, else an error."""
    codes = tuple(part.strip().lower() for part in lang.split("+"))
    if not 1 <= len(codes) <= 2 or len(set(codes)) != len(codes):
        raise ValidationFailed.because("certificate_language", {"lang": lang}, lang=lang)
    for code in codes:
        if code not in LANGUAGES:
            raise ValidationFailed.because("certificate_language", {"lang": lang}, lang=lang)
    return codes


def label(key: str, lang: str) -> str:
    """One label in one language code."""
    return translate(LABELS[key], lang)


def term(vocabulary: str, code: str, lang: str) -> str:
    """A vocabulary code in one language; an unknown code is shown as itself."""
    text = VOCABULARIES[vocabulary].get(code)
    return translate(text, lang) if text else code


def is_known(vocabulary: str, code: str) -> bool:
    return code in VOCABULARIES[vocabulary]
