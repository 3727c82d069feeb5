"""Your data (issue 20): the export ZIP and deleting an account honestly."""

from __future__ import annotations

import io
import json
import zipfile

from registry.extensions import db
from registry.models import User, Work
from registry.models.notification import Notification
from registry.models.user import UserSession
from registry.models.work import WorkStatus


def test_the_export_holds_profile_works_files_certificates_and_notifications(
        cast, two_pictures):
    first, second = two_pictures  # Bolat's copy of Aigerim's picture: a conflict
    cast.user("aigerim").iin = "900101300123"
    db.session.commit()
    cast.login("aigerim")
    response = cast.accounts.client.get("/account/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {"account.json", "works.json", "disputes.json", "notifications.json",
            "manifest.json", "README.txt", f"certificates/{first}.pdf"} <= names
    account = json.loads(archive.read("account.json"))
    assert account["email"] == "aigerim@example.kz" and account["iin"] == "900101300123"
    assert "password_hash" not in account
    works = json.loads(archive.read("works.json"))
    assert [w["registration_number"] for w in works] == [first]
    work = cast.work(first)
    assert works[0]["files"][0]["sha256"] == work.main_file.sha256
    stored = [n for n in names if n.startswith(f"files/{first}/")]
    assert len(stored) == 1
    import hashlib

    assert hashlib.sha256(archive.read(stored[0])).hexdigest() == work.main_file.sha256
    assert archive.read(f"certificates/{first}.pdf").startswith(b"%PDF")
    notes = json.loads(archive.read("notifications.json"))
    assert any(second in n["text"] for n in notes)  # told of Bolat's later copy
    assert second not in {w["registration_number"] for w in works}  # only her own works


def test_the_data_page_explains_deletion_before_confirming(cast, two_pictures):
    cast.login("aigerim")
    body = cast.accounts.client.get("/account/data").get_data(as_text=True)
    assert "The ledger is append-only" in body and "Your 1 work will be withdrawn" in body
    assert 'name="password"' in body and 'name="understood"' in body


def test_deletion_needs_the_password_and_the_confirmation(cast, two_pictures):
    cast.login("aigerim")
    client = cast.accounts.client
    unticked = client.post("/account/delete", data={"password": cast.accounts.password})
    assert unticked.status_code == 422 and "Tick the box to confirm." in unticked.get_data(
        as_text=True)
    wrong = client.post("/account/delete", data={"password": "not the password",
                                                 "understood": "y"})
    assert wrong.status_code == 401 and "The password is wrong." in wrong.get_data(as_text=True)
    assert cast.user("aigerim").deleted_at is None


def test_deleting_withdraws_works_removes_personal_data_and_keeps_the_ledger(
        cast, two_pictures):
    first, _second = two_pictures
    user = cast.user("aigerim")
    user.iin, user.phone, user.legal_name_cyrillic = "900101300123", "+77010000000", "Айгерім"
    db.session.commit()
    work = cast.work(first)
    ledger_before = _ledger_size()
    cast.login("aigerim")
    client = cast.accounts.client
    response = client.post("/account/delete", data={"password": cast.accounts.password,
                                                    "understood": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, cast.ids["aigerim"])
    assert user.deleted_at is not None and user.email.endswith("@deleted.invalid")
    assert (user.iin, user.phone, user.legal_name_cyrillic, user.ledger_secret) == (
        None, None, None, None)
    assert db.session.scalar(db.select(db.func.count(UserSession.id))
                             .where(UserSession.user_id == user.id)) == 0
    assert db.session.scalar(db.select(db.func.count(Notification.id))
                             .where(Notification.user_id == user.id)) == 0
    work = db.session.get(Work, work.id)
    assert work.status == WorkStatus.WITHDRAWN and work.visibility.value == "private"
    assert {a.full_name for a in work.authors} == {"—"}
    assert all(a["full_name"] == "—" for v in work.versions for a in v.metadata_json["authors"])
    assert work.versions[0].digest  # the digest in the ledger entry stays
    assert _ledger_size() == ledger_before + 1  # a work.withdrawn entry; nothing erased
    # The person is logged out and cannot log in again; the public page shows no details.
    assert client.get("/works/").status_code == 302
    assert cast.accounts.login("aigerim@example.kz").status_code == 200  # refused form
    page = client.get(f"/w/{first}").get_data(as_text=True)
    assert "Private registration" in page and "Steppe at noon" not in page


def test_an_account_in_an_open_dispute_cannot_be_deleted(cast, two_pictures):
    first, second = two_pictures
    cast.login("aigerim")
    client = cast.accounts.client
    opened = client.post(f"/disputes/new/{second}", data={
        "kind": "copies_registration", "claimant_work": first,
        "statement": "This is a copy of my photograph.", "links": ""},
        content_type="multipart/form-data")
    assert opened.status_code == 302, opened.get_data(as_text=True)[:300]
    response = client.post("/account/delete", data={"password": cast.accounts.password,
                                                    "understood": "y"})
    assert response.status_code == 409
    assert "open dispute" in response.get_data(as_text=True)
    assert cast.user("aigerim").deleted_at is None


def _ledger_size() -> int:
    from registry.core.ledger.store import ledger_entries

    return db.session.scalar(db.select(db.func.count()).select_from(ledger_entries))
