"""The ready-to-file application for Kazakhstan's state copyright register."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from registry.core import state_filing as form
from registry.core.ledger.keys import split_pdf_signature
from registry.extensions import db
from registry.models import User
from tests.registration import register_form
from tests.web.test_registration import work_by_number

APPLICANT_IIN = "850115452605"
COAUTHOR_IIN = "901230318153"

# The items the official application asks for, as Tamga names them (see the module
# docstring of registry.core.state_filing for the sources). A work by two authors,
# registered by its author, not derivative, not published.
REQUIRED = {
    "applicant.full_name", "applicant.iin", "applicant.citizenship", "applicant.address",
    "applicant.email", "applicant.capacity", "object.kind", "object.title",
    "object.creation_date", "object.published", "object.derivative",
    *(f"authors.{n}.{item}" for n in (1, 2) for item in (
        "full_name", "iin", "birth_date", "citizenship", "address", "contribution", "share")),
    "tamga.registration_number", "tamga.registered_at", "tamga.sha256", "tamga.verify_url",
}


@pytest.fixture
def owner(app, accounts):
    app.config["TAMGA_WORKER"] = "sync"
    user_id = accounts.create()
    with app.app_context():
        user = db.session.get(User, user_id)
        user.legal_name_cyrillic = "Сейтова Айгерім Болатқызы"
        db.session.commit()
    accounts.login()
    return accounts


@pytest.fixture
def number(owner, media):
    return register_form(owner.client, media.picture(41), **{
        "authors-0-share": "60", "authors-1-full_name": "Бауыржан Омаров",
        "authors-1-role": "photographer", "authors-1-share": "40"})


def particulars(**overrides) -> dict:
    data = {
        "applicant_iin": APPLICANT_IIN, "applicant_citizenship": "Қазақстан Республикасы",
        "applicant_address": "Алматы қ., Абай даңғылы 10, 5-пәтер",
        "applicant_phone": "+7 701 000 00 00",
        "authors-0-iin": APPLICANT_IIN, "authors-0-citizenship": "Қазақстан Республикасы",
        "authors-0-address": "Алматы қ., Абай даңғылы 10, 5-пәтер",
        "authors-1-iin": COAUTHOR_IIN, "authors-1-citizenship": "Қазақстан Республикасы",
        "authors-1-address": "Астана қ., Сарыарқа к-сі 3",
    }
    data.update(overrides)
    return data


def test_missing_fields_are_asked_for_and_the_package_refused(owner, number):
    page = owner.client.get(f"/works/{number}/state-filing")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-key="applicant.address"' in text and 'data-key="authors.2.iin"' in text
    refused = owner.client.get(f"/works/{number}/state-filing.zip")
    assert refused.status_code == 422
    assert 'data-key="applicant.citizenship"' in refused.get_data(as_text=True)


def test_the_api_answers_422_with_the_list_of_missing_fields(app, owner, number):
    from registry.services import tokens

    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="aigerim@example.kz"))
        token = tokens.create_token(user, "filing").secret
        db.session.commit()
    response = owner.client.get(f"/api/v1/works/{number}/state-filing.zip",
                                headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "state_filing_incomplete"
    assert {"applicant.address", "authors.2.iin"} <= set(error["missing"])
    assert "address" in error["message"].lower()


def test_missing_fields_are_named_in_kazakh(owner, number):
    refused = owner.client.get(f"/works/{number}/state-filing.zip",
                               headers={"Accept-Language": "kk"})
    assert refused.status_code == 422
    assert "Азаматтығы" in refused.get_data(as_text=True)


def test_an_invalid_iin_is_refused_next_to_its_field(owner, number):
    response = owner.client.post(f"/works/{number}/state-filing",
                                 data=particulars(**{"authors-1-iin": "901230318154"}))
    assert response.status_code == 422
    assert "check digit" in response.get_data(as_text=True).lower()


def test_only_the_owner_prepares_the_application(app, owner, accounts, number):
    accounts.logout()
    accounts.create("bolat@example.kz", name="Bolat")
    accounts.login("bolat@example.kz")
    assert accounts.client.get(f"/works/{number}/state-filing.zip").status_code == 403
    assert accounts.client.post(f"/works/{number}/state-filing",
                                data=particulars()).status_code == 403


def test_the_package_holds_every_field_of_the_form_filled(app, owner, number, media):
    saved = owner.client.post(f"/works/{number}/state-filing", data=particulars())
    assert saved.status_code == 302
    response = owner.client.get(f"/works/{number}/state-filing.zip")
    assert response.status_code == 200, response.data[:300]
    package = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(package.namelist())
    assert {"application-kk.pdf", "application-ru.pdf", "application.json",
            "checklist.txt"} <= names
    copy = next(n for n in names if n.startswith("work/"))
    assert package.read(copy) == media.picture(41).read_bytes()

    record = json.loads(package.read("application.json"))
    fields = {f["key"]: f for f in record["fields"]}
    assert REQUIRED <= set(fields)
    for key in REQUIRED:
        for lang in ("kk", "ru"):
            assert fields[key]["value"][lang], (key, lang)
            assert fields[key]["label"][lang], (key, lang)
    assert fields["authors.2.birth_date"]["value"]["ru"] == "1990-12-30"
    assert fields["authors.1.share"]["value"]["kk"] == "60"
    assert fields["object.kind"]["value"]["ru"] == "Фотографическое произведение"
    assert fields["applicant.iin"]["label"]["kk"] != fields["applicant.iin"]["label"]["ru"]

    for lang, words in (("kk", "Өтініш беруші"), ("ru", "Заявитель")):
        pdf = package.read(f"application-{lang}.pdf")
        body, signature = split_pdf_signature(pdf)
        assert signature is not None  # signed like a certificate
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
        assert words in text and number in text and "Сейтова" in text
    checklist = package.read("checklist.txt").decode()
    assert "[kk]" in checklist and "[ru]" in checklist and "egov.kz" in checklist


def test_preparing_the_package_is_a_ledger_entry_once_per_content(app, owner, number):
    from registry.core.ledger import store

    owner.client.post(f"/works/{number}/state-filing", data=particulars())

    def entries() -> list[dict]:
        with app.app_context():
            conn = db.session.connection()
            return [json.loads(e.entry) for e in store.get_entries(conn, 0, store.tree_size(conn))]

    before = len(entries())
    assert owner.client.get(f"/works/{number}/state-filing.zip").status_code == 200
    assert owner.client.get(f"/works/{number}/state-filing.zip").status_code == 200
    after = entries()
    assert len(after) == before + 1
    entry = after[-1]
    assert entry["kind"] == "state_filing.prepared"
    assert entry["registration_number"] == number
    assert APPLICANT_IIN not in json.dumps(entry, ensure_ascii=False)
    work = work_by_number(app, number)
    assert work.registration_number == number


def test_conditional_fields_become_required_when_they_apply():
    facts = form.FilingFacts(
        registration_number="KZ-2026-000001", registered_at=datetime(2026, 1, 1, tzinfo=UTC),
        verify_url="https://tamga.kz/verify", sha256="0" * 64, file_name="a.jpg",
        object_kind="photograph", title="T", applicant=form.Person(full_name="A"),
        capacity="rights_holder", authors=(form.FilingAuthor("A", "photographer",
                                                            Decimal(100)),),
        published=True, derivative=True)
    missing = {m.key for m in form.missing_fields(facts)}
    assert {"applicant.rights_basis", "object.publication_date", "object.publication_place",
            "object.original_work", "object.original_author"} <= missing
