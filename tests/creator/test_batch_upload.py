"""Batch upload at /works/batch (issue 20): many files, the metadata once, one
registration per file, one result per file, and a refused file leaves nothing."""

from __future__ import annotations

import io
import re

from PIL import Image

from registry.extensions import db
from registry.models import Work
from registry.models.job import Job
from registry.models.work import WorkFile, WorkStatus


def _shared(**overrides) -> dict:
    data = {
        "work_type": "photograph", "language": "kk", "country": "KZ",
        "authors-0-full_name": "Айгерім Сейітова", "authors-0-role": "photographer",
        "authors-0-share": "100", "registrant_capacity": "author", "creation": "2025",
        "ai_use": "none", "licence": "CC-BY-4.0", "visibility": "public",
        "allow_thumbnail": "y", "ai_training_opt_out": "y",
    }
    data.update(overrides)
    return data


def _post(client, files, titles=None, **overrides):
    data = _shared(**overrides)
    data["files"] = [(io.BytesIO(path.read_bytes()), name) for path, name in files]
    if titles is not None:
        data["titles"] = titles
    return client.post("/works/batch", data=data, content_type="multipart/form-data")


def _owned(cast, name):
    return list(db.session.scalars(db.select(Work).filter_by(owner_id=cast.ids[name])
                                   .order_by(Work.id)))


def test_the_batch_page_offers_the_shared_metadata_and_a_titles_table(cast):
    cast.login("aigerim")
    page = cast.accounts.client.get("/works/batch")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'id="batch-form"' in body and 'name="files"' in body and "webkitdirectory" in body
    assert 'class="batch-files' in body and 'name="title"' not in body  # titles per file
    for name in ("authors-0-full_name", "registrant_capacity", "licence", "ai_use",
                 "visibility"):
        assert f'name="{name}"' in body


def test_each_file_becomes_its_own_registration_with_its_title_and_the_shared_metadata(
        cast, media, tmp_path):
    cast.login("aigerim")
    files = [(media.picture(101), "steppe_01.jpg"), (media.picture(102), "steppe-02.jpg"),
             (media.picture(103), "steppe_03.jpg")]
    response = _post(cast.accounts.client, files, titles=["Жусан", "", "Тау"])
    alerts = re.findall(r'role="alert">([^<]*)', response.get_data(as_text=True))
    assert response.status_code == 200, alerts
    body = response.get_data(as_text=True)
    works = _owned(cast, "aigerim")
    assert [w.title for w in works] == ["Жусан", "steppe 02", "Тау"]
    assert len({w.registration_number for w in works}) == 3
    for work in works:
        assert work.registration_number in body
        assert work.licence == "CC-BY-4.0" and work.visibility.value == "public"
        assert [(a.full_name, a.role) for a in work.authors] == [("Айгерім Сейітова",
                                                                    "photographer")]
        assert work.status == WorkStatus.REGISTERED  # the sync worker has processed it
    assert body.count('class="batch-row batch-registered"') == 3
    assert "3 files received a registration number." in body


def test_one_bad_file_is_refused_alone_and_leaves_nothing_behind(cast, media, tmp_path):
    cast.login("aigerim")
    client = cast.accounts.client
    first = _post(client, [(media.picture(111), "one.jpg")])
    assert first.status_code == 200
    junk = tmp_path / "notes.txt"
    junk.write_text("not a picture at all")
    song = media.clip("song_a", 0, 4)  # small: the test client spools big bodies to files
    files = [(media.picture(112), "two.jpg"), (junk, "notes.txt"), (song, "dombra.mp3"),
             (media.picture(111), "one-again.jpg"), (media.picture(113), "three.jpg")]
    jobs_before = db.session.scalar(db.select(db.func.count(Job.id)))
    response = _post(client, files)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    works = _owned(cast, "aigerim")
    assert [w.title for w in works] == ["one", "two", "three"]
    # Per-file results: registered, a clear error, a duplicate naming the earlier number.
    rows = body.split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]
    assert "batch-registered" in rows[0] and "two.jpg" in rows[0]
    assert "batch-rejected" in rows[1] and "notes.txt" in rows[1] and "Not registered" in rows[1]
    assert "batch-rejected" in rows[2] and "dombra.mp3" in rows[2]
    assert "batch-duplicate" in rows[3] and works[0].registration_number in rows[3]
    assert "batch-registered" in rows[4]
    assert "2 files received a registration number." in body
    assert "3 files were not registered." in body
    # Nothing of the refused files was written: no rows, no jobs beyond the two works.
    names = set(db.session.scalars(db.select(WorkFile.original_name)))
    assert names == {"one.jpg", "two.jpg", "three.jpg"}
    assert db.session.scalar(db.select(db.func.count(Job.id))) - jobs_before >= 2
    assert all(j.work_id in {w.id for w in works}
               for j in db.session.scalars(db.select(Job).where(Job.work_id.is_not(None))))


def test_a_copy_of_an_earlier_work_of_another_account_is_reported_as_a_conflict(
        cast, media, tmp_path):
    original = media.picture(121, size=(320, 240))  # small bodies (see below)
    cast.register("aigerim", original, "Steppe at noon")
    copy = tmp_path / "copy.png"
    Image.open(original).save(copy, "PNG")
    cast.login("bolat")
    response = _post(cast.accounts.client, [(copy, "copy.png"), (media.picture(122), "own.jpg")],
                     **{"authors-0-full_name": "Болат"})
    body = response.get_data(as_text=True)
    works = _owned(cast, "bolat")
    assert [w.status for w in works] == [WorkStatus.CONFLICT, WorkStatus.REGISTERED]
    rows = body.split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]
    assert "status-conflict" in rows[0] and "matches a work registered earlier" in rows[0]
    assert "status-registered" in rows[1]


def test_shared_metadata_errors_stop_the_batch_before_any_file_and_keep_the_fields(
        cast, media):
    cast.login("aigerim")
    response = _post(cast.accounts.client, [(media.picture(131), "a.jpg")],
                     registrant_capacity="rights_holder", licence="CC-BY-4.0")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "A rights holder must say on what basis" in body
    assert 'value="Айгерім Сейітова"' in body  # the typed fields are kept
    assert _owned(cast, "aigerim") == []


def test_an_empty_or_too_large_batch_is_refused_with_a_message(cast, media):
    cast.login("aigerim")
    client = cast.accounts.client
    empty = client.post("/works/batch", data=_shared(), content_type="multipart/form-data")
    assert empty.status_code == 422
    assert "Choose at least one file." in empty.get_data(as_text=True)
    data = _shared()
    # Tiny parts: the count is refused before any file is read (and a body over 500 kB
    # would be spooled by the test client to a file it never closes).
    data["files"] = [(io.BytesIO(b"x"), f"p{i}.jpg") for i in range(101)]
    many = client.post("/works/batch", data=data, content_type="multipart/form-data")
    assert many.status_code == 422
    assert "At most 100 files in one batch." in many.get_data(as_text=True)
    assert _owned(cast, "aigerim") == []


def test_the_batch_needs_a_login(client):
    response = client.get("/works/batch")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
