"""Translated names for the registry's vocabularies, shared by forms and templates."""

from __future__ import annotations

from babel.numbers import format_decimal
from flask_babel import get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l

from registry.core import c2pa_signing
from registry.kinds import all_kinds
from registry.models.work import AIUse, RegistrantCapacity, Visibility, WorkStatus, WorkType
from registry.services.provenance import ai_label_kind

WORK_TYPE_LABELS = {
    WorkType.MUSICAL_WORK: _l("Musical work (composition, lyrics)"),
    WorkType.SOUND_RECORDING: _l("Sound recording"),
    WorkType.PHOTOGRAPH: _l("Photograph"),
    WorkType.ARTWORK: _l("Artwork or illustration"),
    WorkType.AUDIOVISUAL: _l("Audiovisual work or video clip"),
    WorkType.OTHER: _l("Other"),
}
ROLE_LABELS = {
    "composer": _l("Composer"), "lyricist": _l("Lyricist"), "performer": _l("Performer"),
    "producer": _l("Producer"), "arranger": _l("Arranger"), "photographer": _l("Photographer"),
    "artist": _l("Artist"), "illustrator": _l("Illustrator"), "director": _l("Director"),
    "screenwriter": _l("Screenwriter"), "camera": _l("Director of photography"),
    "editor": _l("Editor"), "author": _l("Author"), "other": _l("Other role"),
}
AI_LABELS = {
    AIUse.NONE: _l("No AI was used"),
    AIUse.AI_ASSISTED: _l("AI-assisted: a person made it with the help of AI tools"),
    AIUse.AI_GENERATED: _l("AI-generated: made mostly by an AI system"),
}
LICENCE_LABELS = {
    "all-rights-reserved": _l("All rights reserved"),
    "CC-BY-4.0": "Creative Commons BY 4.0",
    "CC-BY-SA-4.0": "Creative Commons BY-SA 4.0",
    "CC-BY-ND-4.0": "Creative Commons BY-ND 4.0",
    "CC-BY-NC-4.0": "Creative Commons BY-NC 4.0",
    "CC-BY-NC-SA-4.0": "Creative Commons BY-NC-SA 4.0",
    "CC-BY-NC-ND-4.0": "Creative Commons BY-NC-ND 4.0",
    "CC0-1.0": _l("CC0: no rights reserved (public domain dedication)"),
}
LANGUAGE_CHOICES = [
    ("", _l("— not applicable —")), ("kk", "Қазақша"), ("ru", "Русский"), ("en", "English"),
    ("ky", "Кыргызча"), ("uz", "Oʻzbekcha"), ("tg", "Тоҷикӣ"), ("tk", "Türkmençe"),
    ("other", _l("Other language")),
]
CAPACITY_LABELS = {
    RegistrantCapacity.AUTHOR: _l("I am an author of this work"),
    RegistrantCapacity.RIGHTS_HOLDER: _l("I hold the rights (company, heir, assignee)"),
}
VISIBILITY_LABELS = {
    Visibility.PUBLIC: _l("Public record: details and fingerprints can be searched"),
    Visibility.PRIVATE: _l("Private: only the number, date and hashes are public"),
}
WORK_STATUS_LABELS = {
    WorkStatus.PROCESSING: _l("processing"),
    WorkStatus.REGISTERED: _l("registered"),
    WorkStatus.CONFLICT: _l("conflict"),
    WorkStatus.FAILED: _l("processing failed"),
    WorkStatus.WITHDRAWN: _l("withdrawn"),
}
MATCH_KIND_LABELS = {
    "exact": _l("identical file"),
    **{kind.name: kind.match_label for kind in all_kinds()},
}
TRACK_LABELS = {"picture": _l("Picture"), "sound": _l("Sound")}
TRANSFORMATION_LABELS = {
    "identical": _l("identical"),
    "mirrored": _l("mirrored"),
    "cropped": _l("cropped"),
    "bordered": _l("border added"),
    "rotated": _l("rotated"),
}

C2PA_STATE_LABELS = {
    "trusted": _l("valid, signer trusted"),
    "valid_untrusted": _l("valid, signer unknown"),
    "invalid": _l("invalid or tampered"),
    "none": _l("none"),
}
AI_BADGES = {
    "ai_generated": _l("AI-generated"),
    "ai_assisted": _l("Made with AI assistance"),
}


def provenance_summary(found: dict) -> str:
    """One line like the lookup hits': "Content Credentials: created with …, digital source
    type: …, signed by … (valid, signer unknown)", from ``ProvenanceReport.as_dict()``."""
    c2pa, iptc = found["c2pa"], found["iptc"]
    if c2pa["state"] == "none":
        text = str(C2PA_STATE_LABELS["none"])
        if iptc.get("digital_source_type"):
            text += f" · IPTC: {iptc['digital_source_type']}"
    else:
        parts = []
        if c2pa.get("claim_generator"):
            parts.append(gettext("created with %(tool)s", tool=c2pa["claim_generator"]))
        if c2pa.get("digital_source_type"):
            parts.append(gettext("digital source type: %(type)s",
                                 type=c2pa["digital_source_type"]))
        if c2pa.get("signer"):
            parts.append(gettext("signed by %(issuer)s", issuer=c2pa["signer"]))
        state = f"({C2PA_STATE_LABELS[c2pa['state']]})"
        text = " ".join([", ".join(parts), state]) if parts else state
    return f"{gettext('Content Credentials')}: {text}"


def _semitones(value: float) -> str:
    return format_decimal(round(abs(value), 1), format="0.#", locale=str(get_locale()))


def audio_change(transform: dict | None) -> str | None:
    """"this copy is 12% faster and 2 semitones higher" (None for an unchanged copy)."""
    if not transform:
        return None
    speed, pitch = float(transform.get("speed", 1.0)), float(transform.get("pitch_semitones", 0))
    percent = round(abs(speed - 1.0) * 100)
    steps = round(abs(pitch), 1)
    speed_text = pitch_text = None
    if percent >= 1:
        speed_text = (gettext("%(percent)s%% faster", percent=percent) if speed > 1
                      else gettext("%(percent)s%% slower", percent=percent))
    if steps >= 0.3:
        n = max(1, round(steps))
        num = _semitones(pitch)
        pitch_text = (ngettext("%(steps)s semitone higher", "%(steps)s semitones higher", n,
                                   steps=num)
                      if pitch > 0 else
                      ngettext("%(steps)s semitone lower", "%(steps)s semitones lower", n,
                                   steps=num))
    if speed_text and pitch_text:
        return gettext("This copy is %(speed)s and %(pitch)s.", speed=speed_text,
                       pitch=pitch_text)
    if speed_text:
        return gettext("This copy is %(speed)s at the same pitch.", speed=speed_text)
    if pitch_text:
        return gettext("This copy is %(pitch)s at the same speed.", pitch=pitch_text)
    return None


def template_globals() -> dict:
    return {
        "WORK_TYPE_LABELS": WORK_TYPE_LABELS, "ROLE_LABELS": ROLE_LABELS,
        "AI_LABELS": AI_LABELS, "LICENCE_LABELS": LICENCE_LABELS,
        "CAPACITY_LABELS": CAPACITY_LABELS, "VISIBILITY_LABELS": VISIBILITY_LABELS,
        "STATUS_LABELS": WORK_STATUS_LABELS, "MATCH_KIND_LABELS": MATCH_KIND_LABELS,
        "TRANSFORMATION_LABELS": TRANSFORMATION_LABELS, "TRACK_LABELS": TRACK_LABELS,
        "audio_change": audio_change,
        "LANGUAGE_NAMES": dict(LANGUAGE_CHOICES),
        "C2PA_STATE_LABELS": C2PA_STATE_LABELS, "AI_BADGES": AI_BADGES,
        "ai_label_kind": ai_label_kind, "provenance_summary": provenance_summary,
        "can_sign_credentials": c2pa_signing.can_sign,
    }
