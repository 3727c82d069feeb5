"""An application for Kazakhstan's state register of rights to copyright objects.

A Tamga registration is not the state's. A creator who wants the entry in the
State register of rights to objects protected by copyright files an application
through eGov with the National Institute of Intellectual Property (Kazpatent).
This module turns what Tamga already knows about a work into that application:
the fields filled in (Kazakh and Russian PDFs, and JSON), the list of what is
still missing, and a checklist of what only the creator can add.

Sources the field list follows (read in November 2026):

- Law of the Republic of Kazakhstan of 10 June 1996 No. 6 "On Copyright and
  Related Rights", Article 9-1: an application, a copy of the work (or
  sketches, drawings, photographs of it) and the document confirming payment
  are filed; for computer programs and databases an abstract and the source
  text; for a composite or derivative work a copy of the agreement with the
  author or right holder of the original work; for works of religious content
  the positive conclusion of a religious-studies examination; co-authors may
  have their rights entered separately.
- Rules for entering information and changes into the State register of
  rights to objects protected by copyright, Appendix 1 to Order of the Minister
  of Justice No. 1315 of 28 August 2018 (registered under No. 17325), as
  amended by Order No. 104 of 19 March 2020.
- The public service "Entering information into the State register of rights
  to objects protected by copyright" on egov.kz, provided by the National
  Institute of Intellectual Property (qazpatent.kz), and the Institute's list
  of the most common errors (different titles or creation dates in the
  application and the copy; the full list of the authors of an audiovisual
  work: screenwriter, composer, director, cinematographer, production
  designer; lyrics and notes for musical works with text; the agreement for
  derivative works).

The eGov form's exact labels are not published as a document: the labels here
are ours, written to match the items the Rules and the Law require, and the
help page says so. Nothing here is legal advice.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from reportlab.platypus import Flowable, Paragraph, Spacer

from registry.core.certificates.layout import (
    Multilingual,
    PageDecor,
    build_pdf,
    esc,
    finish_pdf,
    kv_table,
    styles,
)
from registry.core.certificates.timezones import format_almaty
from registry.core.ledger.canonical import canonical_json

Translate = Callable[[str], str]
Signer = Callable[[bytes], bytes]

FORM_NAME = "state-register-copyright-kz"
FILING_LANGUAGES = ("kk", "ru")
SOURCES = (
    "Law of the Republic of Kazakhstan of 10 June 1996 No. 6 'On Copyright and Related "
    "Rights', Article 9-1",
    "Rules for entering information and changes into the State register of rights to "
    "objects protected by copyright, Order of the Minister of Justice No. 1315 of "
    "28 August 2018 (No. 17325), as amended by Order No. 104 of 19 March 2020",
    "eGov public service 'Entering information into the State register of rights to "
    "objects protected by copyright' (National Institute of Intellectual Property)",
)
LABEL_W = 190.0


def N_(message: str) -> str:
    """Marks a message for the catalogues; it is translated when a PDF is laid out."""
    return message


# What kind of object the register knows each Tamga work type as.
OBJECT_KINDS: dict[str, str] = {
    "musical_work": N_("Musical work (with or without text)"),
    "sound_recording": N_("Musical work (with or without text) embodied in a phonogram"),
    "photograph": N_("Photographic work"),
    "artwork": N_("Work of painting, sculpture, graphics or other fine art"),
    "audiovisual": N_("Audiovisual work"),
    "other": N_("Other work of science, literature or art"),
}
CAPACITIES: dict[str, str] = {
    "author": N_("The author (co-author) of the work"),
    "rights_holder": N_("A right holder other than the author"),
}
ROLES: dict[str, str] = {
    "composer": N_("Composer"), "lyricist": N_("Lyricist"), "performer": N_("Performer"),
    "producer": N_("Producer"), "arranger": N_("Arranger"), "photographer": N_("Photographer"),
    "artist": N_("Artist"), "illustrator": N_("Illustrator"), "director": N_("Director"),
    "screenwriter": N_("Screenwriter"), "camera": N_("Cinematographer"),
    "editor": N_("Editor"), "author": N_("Author"), "other": N_("Other role"),
}


@dataclass(frozen=True)
class Person:
    """The applicant, as the form asks for them."""

    full_name: str = ""
    iin: str = ""
    citizenship: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class FilingAuthor:
    full_name: str
    role: str
    share: Decimal
    iin: str = ""
    citizenship: str = ""
    address: str = ""
    birth_date: str = ""
    pseudonym: str = ""


@dataclass(frozen=True)
class FilingFacts:
    """Everything the application states; the service fills it from the registry."""

    registration_number: str
    registered_at: datetime
    verify_url: str
    sha256: str
    file_name: str
    object_kind: str
    title: str
    applicant: Person
    capacity: str
    authors: tuple[FilingAuthor, ...]
    original_title: str = ""
    description: str = ""
    creation_date: str = ""
    published: bool = False
    publication_date: str = ""
    publication_place: str = ""
    rights_basis: str = ""
    derivative: bool = False
    original_work: str = ""
    original_author: str = ""


@dataclass(frozen=True)
class Field:
    """One item of the form: its key (as in ``application.json``), label and value."""

    key: str
    label: str
    value: str
    required: bool = True
    section: str = ""
    section_n: int = 0  # the author's position, for "Author %(n)d"


@dataclass(frozen=True)
class Missing:
    key: str
    label: str


@dataclass
class Package:
    """The application package's files, by name."""

    files: dict[str, bytes] = field(default_factory=dict)

    def zip_bytes(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in self.files.items():
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, data)
        return out.getvalue()


SECTION_APPLICANT = N_("Applicant")
SECTION_OBJECT = N_("Object of copyright")
SECTION_AUTHOR = N_("Author %(n)d")
SECTION_TAMGA = N_("Registration in Tamga")


def form_fields(f: FilingFacts) -> list[Field]:
    """Every item of the application, in the form's order, with its value."""
    a = f.applicant
    rights_holder = f.capacity == "rights_holder"
    items = [
        Field("applicant.full_name", N_("Surname, name, patronymic"), a.full_name,
              section=SECTION_APPLICANT),
        Field("applicant.iin", N_("Individual identification number (IIN)"), a.iin),
        Field("applicant.citizenship", N_("Citizenship"), a.citizenship),
        Field("applicant.address", N_("Address (place of residence)"), a.address),
        Field("applicant.phone", N_("Telephone"), a.phone, required=False),
        Field("applicant.email", N_("E-mail"), a.email),
        Field("applicant.capacity", N_("The applicant is"), CAPACITIES.get(f.capacity, "")),
        Field("applicant.rights_basis", N_("Basis of the applicant's rights"), f.rights_basis,
              required=rights_holder),
        Field("object.kind", N_("Kind of object"), OBJECT_KINDS.get(f.object_kind, ""),
              section=SECTION_OBJECT),
        Field("object.title", N_("Title of the work"), f.title),
        Field("object.original_title", N_("Title in the original language"), f.original_title,
              required=False),
        Field("object.description", N_("Short description of the work"), f.description,
              required=False),
        Field("object.creation_date", N_("Date of creation"), f.creation_date),
        Field("object.published", N_("Made public"), N_("Yes") if f.published else N_("No")),
        Field("object.publication_date", N_("Date of publication"), f.publication_date,
              required=f.published),
        Field("object.publication_place", N_("Place of publication"), f.publication_place,
              required=f.published),
        Field("object.derivative", N_("Derivative or composite work"),
              N_("Yes") if f.derivative else N_("No")),
        Field("object.original_work", N_("Original work (title)"), f.original_work,
              required=f.derivative),
        Field("object.original_author", N_("Author or right holder of the original work"),
              f.original_author, required=f.derivative),
    ]
    for i, au in enumerate(f.authors, start=1):
        p = f"authors.{i}."
        items += [
            Field(p + "full_name", N_("Surname, name, patronymic"), au.full_name,
                  section=SECTION_AUTHOR, section_n=i),
            Field(p + "iin", N_("Individual identification number (IIN)"), au.iin),
            Field(p + "birth_date", N_("Date of birth"), au.birth_date),
            Field(p + "citizenship", N_("Citizenship"), au.citizenship),
            Field(p + "address", N_("Address (place of residence)"), au.address),
            Field(p + "contribution", N_("Creative contribution"), ROLES.get(au.role, au.role)),
            Field(p + "share", N_("Share of authorship, %"), _share(au.share)),
            Field(p + "pseudonym", N_("Pseudonym (if the work is to carry one)"), au.pseudonym,
                  required=False),
        ]
    items += [
        Field("tamga.registration_number", N_("Tamga registration number"),
              f.registration_number, section=SECTION_TAMGA),
        Field("tamga.registered_at", N_("Registered in Tamga"), format_almaty(f.registered_at)),
        Field("tamga.sha256", N_("SHA-256 of the copy of the work"), f.sha256),
        Field("tamga.verify_url", N_("Verify online"), f.verify_url),
    ]
    return items


def required_keys(f: FilingFacts) -> list[str]:
    """The keys the form requires for this work (conditional items included when they apply)."""
    return [item.key for item in form_fields(f) if item.required]


def missing_fields(f: FilingFacts) -> list[Missing]:
    """Required items with no value; also a work with no author or shares not adding to 100."""
    missing = [Missing(i.key, i.label) for i in form_fields(f) if i.required and not i.value]
    if not f.authors:
        missing.append(Missing("authors", N_("At least one author")))
    elif sum((a.share for a in f.authors), Decimal(0)) != Decimal(100):
        missing.append(Missing("authors.share", N_("Shares of authorship that add up to 100%")))
    return missing


def _share(value: Decimal) -> str:
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def application_record(f: FilingFacts, translators: dict[str, Translate]) -> dict:
    """``application.json``: each field by its key, with its kk and ru label and value."""
    def localised(t: Translate, text: str) -> str:
        return t(text) if text in _TRANSLATED_VALUES else text

    return {
        "form": FORM_NAME,
        "sources": list(SOURCES),
        "registration_number": f.registration_number,
        "fields": [
            {
                "key": item.key,
                "required": item.required,
                "label": {lang: t(item.label) for lang, t in translators.items()},
                "value": {lang: localised(t, item.value) for lang, t in translators.items()},
            }
            for item in form_fields(f)
        ],
    }


# Values that are themselves catalogue messages (kinds, capacities, roles, yes/no).
_TRANSLATED_VALUES = frozenset(
    [*OBJECT_KINDS.values(), *CAPACITIES.values(), *ROLES.values(), "Yes", "No"])


def checklist_items(f: FilingFacts) -> list[str]:
    """What the creator must still do or add before the application can be filed."""
    items = [
        N_("Sign the application with your electronic digital signature (EDS) on egov.kz."),
        N_("Pay the fee for entering information into the register and attach the receipt "
           "(or the document that grounds a reduced fee)."),
        N_("Check that the title and the date of creation are the same in the application "
           "and in the copy of the work."),
        N_("Attach the copy of the work included in this package."),
    ]
    if f.object_kind == "musical_work":
        items.append(N_("For a musical work with text, attach the lyrics as well as the music."))
    if f.object_kind == "audiovisual":
        items.append(N_("List every author of the audiovisual work: screenwriter, composer of "
                        "music written for it, director, cinematographer, production designer."))
    if f.derivative:
        items.append(N_("Attach a copy of the agreement with the author or right holder of the "
                        "original work."))
    if f.capacity == "rights_holder":
        items.append(N_("Attach the document on which your rights rest (agreement, "
                        "employment contract, certificate of inheritance)."))
    items.append(N_("For a work of religious content, attach the positive conclusion of a "
                    "religious-studies examination."))
    return items


TITLE = N_("Application for entering information into the State register of rights to "
           "objects protected by copyright")
PREPARED = N_("Prepared by Tamga from registration %(number)s. Tamga is not the state "
              "register; file this application through eGov.")
ATTACHED = N_("Attached: a copy of the work (%(name)s).")
CHECKLIST_TITLE = N_("Before you file: what only you can add")
NUMBER_LABEL = N_("Tamga registration number")


def checklist_text(f: FilingFacts, translators: dict[str, Translate]) -> str:
    blocks = []
    for lang, t in translators.items():
        lines = [f"[{lang}] {t(CHECKLIST_TITLE)}",
                 f"{t(NUMBER_LABEL)}: {f.registration_number}", ""]
        lines += [f"[ ] {t(item)}" for item in checklist_items(f)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def render_application(f: FilingFacts, lang: str, t: Translate, sign: Signer | None) -> bytes:
    """The application in one language as a PDF, signed like a certificate."""
    st = styles()
    story: list[Flowable] = [
        Paragraph(esc(t(TITLE)), st["doc_title"]),
        Paragraph(esc(t(PREPARED) % {"number": f.registration_number}), st["note"]),
        Spacer(1, 6),
    ]
    rows: list[tuple[Flowable, Flowable]] = []
    for item in form_fields(f):
        if item.section:
            if rows:
                story.append(kv_table(rows, LABEL_W))
                rows = []
            heading = t(item.section) % {"n": item.section_n} if item.section_n else t(item.section)
            story.append(Paragraph(esc(heading), st["section"]))
        value = t(item.value) if item.value in _TRANSLATED_VALUES else item.value
        rows.append((Paragraph(esc(t(item.label)), st["label"]),
                     Paragraph(esc(value or "—"), st["value"])))
    story.append(kv_table(rows, LABEL_W))
    story.append(Spacer(1, 8))
    story.append(Paragraph(esc(t(ATTACHED) % {"name": f.file_name}), st["note"]))
    decor = PageDecor(Multilingual(lang), band_right=[t(NUMBER_LABEL), f.registration_number],
                      footer_left=f"Tamga · {f.registration_number}")
    pdf = build_pdf(story, decor, title=t(TITLE), subject=f.title,
                    keywords=f"Tamga, {f.registration_number}",
                    id_seed=canonical_json({"n": f.registration_number, "lang": lang,
                                            "sha": f.sha256}))
    pdf = finish_pdf(pdf, dated=f.registered_at)
    return sign(pdf) if sign is not None else pdf


def build_package(f: FilingFacts, translators: dict[str, Translate], copy: bytes,
                  sign: Signer | None) -> Package:
    """``application-kk.pdf``, ``application-ru.pdf``, ``application.json``, the copy of
    the work and ``checklist.txt``."""
    package = Package()
    for lang, t in translators.items():
        package.files[f"application-{lang}.pdf"] = render_application(f, lang, t, sign)
    record = application_record(f, translators)
    package.files["application.json"] = json.dumps(record, ensure_ascii=False,
                                                   indent=2).encode()
    package.files[f"work/{_safe_name(f.file_name)}"] = copy
    package.files["checklist.txt"] = checklist_text(f, translators).encode()
    return package


def _safe_name(name: str) -> str:
    cleaned = "".join(c for c in name.replace("\\", "/").split("/")[-1] if c.isprintable())
    return cleaned.strip(". ") or "work"


def summary_labels(items: Sequence[Missing], t: Translate) -> list[str]:
    return [t(m.label) for m in items]
