"""Translated names for the registry's vocabularies, shared by forms and templates."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from registry.models.work import AIUse, RegistrantCapacity, Visibility, WorkStatus, WorkType

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
STATUS_LABELS = {
    WorkStatus.PROCESSING: _l("processing"),
    WorkStatus.REGISTERED: _l("registered"),
    WorkStatus.CONFLICT: _l("conflict"),
    WorkStatus.FAILED: _l("processing failed"),
    WorkStatus.WITHDRAWN: _l("withdrawn"),
}
MATCH_KIND_LABELS = {
    "exact": _l("identical file"),
    "audio": _l("same recording"),
    "image": _l("same image"),
}
TRANSFORMATION_LABELS = {
    "identical": _l("identical"),
    "mirrored": _l("mirrored"),
    "cropped": _l("cropped"),
    "bordered": _l("border added"),
    "rotated": _l("rotated"),
}


def template_globals() -> dict:
    return {
        "WORK_TYPE_LABELS": WORK_TYPE_LABELS, "ROLE_LABELS": ROLE_LABELS,
        "AI_LABELS": AI_LABELS, "LICENCE_LABELS": LICENCE_LABELS,
        "CAPACITY_LABELS": CAPACITY_LABELS, "VISIBILITY_LABELS": VISIBILITY_LABELS,
        "STATUS_LABELS": STATUS_LABELS, "MATCH_KIND_LABELS": MATCH_KIND_LABELS,
        "TRANSFORMATION_LABELS": TRANSFORMATION_LABELS,
        "LANGUAGE_NAMES": dict(LANGUAGE_CHOICES),
    }
