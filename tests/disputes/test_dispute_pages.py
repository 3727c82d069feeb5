"""The dispute pages: who sees what, forms, moderation, notifications, public banners."""

from __future__ import annotations

import io
from datetime import timedelta

from registry.extensions import db
from registry.models import Dispute


def _open_through_the_form(client, cast, first, second):
    cast.login("aigerim")
    response = client.post(f"/disputes/new/{second}", data={
        "kind": "copies_registration", "claimant_work": first,
        "statement": "SECRET-CLAIM drafts from 2019", "links": "https://example.kz/draft",
        "files": [(io.BytesIO(b"layered project file"), "draft.psd")],
    }, content_type="multipart/form-data")
    assert response.status_code == 302, response.data[:800]
    return int(response.headers["Location"].rsplit("/", 1)[-1])


def test_parties_strangers_and_moderators_see_what_they_may(app, client, cast, two_pictures):
    first, second = two_pictures
    dispute_id = _open_through_the_form(client, cast, first, second)
    page = client.get(f"/disputes/{dispute_id}").data.decode()
    assert "SECRET-CLAIM" in page and "draft.psd" in page and "evidence.zip" in page

    cast.login("bolat")
    page = client.get(f"/disputes/{dispute_id}").data.decode()
    assert "SECRET-CLAIM" not in page and "draft.psd" not in page  # the other side's evidence
    assert "Answer the dispute" in page
    response = client.post(f"/disputes/{dispute_id}/answer",
                           data={"statement": "SECRET-ANSWER I shot it"})
    assert response.status_code == 302
    assert client.get(f"/disputes/{dispute_id}/evidence.zip").status_code == 200

    cast.login("stranger")
    page = client.get(f"/disputes/{dispute_id}").data.decode()
    assert "SECRET" not in page and "draft.psd" not in page and "evidence.zip" not in page
    assert client.get(f"/disputes/{dispute_id}/evidence.zip").status_code == 404
    assert client.post(f"/disputes/{dispute_id}/decide", data={
        "outcome": "upheld", "reason": "I am not a moderator at all"}).status_code == 403
    assert client.get("/moderation/").status_code == 403
    public = client.get(f"/w/{second}").data.decode()
    assert "Questioned" in public
    with app.app_context():
        number = db.session.get(Dispute, dispute_id).number
    assert number in public and number in client.get(f"/w/{first}").data.decode()

    cast.login("moder")
    queue = client.get("/moderation/").data.decode()
    assert number in queue
    page = client.get(f"/disputes/{dispute_id}").data.decode()
    assert "SECRET-CLAIM" in page and "SECRET-ANSWER" in page
    response = client.post(f"/disputes/{dispute_id}/decide", data={
        "outcome": "upheld", "reason": "PUBLIC-REASON: registered earlier, same picture."})
    assert response.status_code == 302

    cast.accounts.logout()
    public = client.get(f"/w/{second}").data.decode()
    assert "PUBLIC-REASON" in public and "Claim upheld" in public and "Questioned" not in public
    page = client.get(f"/disputes/{dispute_id}").data.decode()
    assert "PUBLIC-REASON" in page and "SECRET" not in page


def test_notifications_page_and_unread_count(client, cast, two_pictures):
    first, second = two_pictures
    dispute_id = _open_through_the_form(client, cast, first, second)
    cast.login("bolat")
    home = client.get("/notifications/").data.decode()
    assert f'href="/disputes/{dispute_id}"' in home
    assert 'class="badge"' in client.get("/").data.decode()
    client.post("/notifications/read")
    assert 'class="badge"' not in client.get("/").data.decode()


def test_cannot_dispute_ones_own_registration_and_needs_evidence(client, cast, two_pictures):
    first, second = two_pictures
    cast.login("bolat")
    response = client.post(f"/disputes/new/{second}", data={"kind": "copies_registration"})
    assert response.status_code == 422
    cast.login("stranger")
    response = client.post(f"/disputes/new/{first}", data={"kind": "copies_registration"})
    assert response.status_code == 422


def test_external_copy_with_an_uploaded_clip_goes_to_the_moderators(app, client, cast, media,
                                                                      two_pictures, tmp_path):
    from PIL import Image

    first, _ = two_pictures
    cropped = tmp_path / "seen-online.jpg"
    with Image.open(media.picture(7)) as im:
        im.crop((40, 30, 600, 450)).save(cropped, "JPEG", quality=85)
    cast.login("aigerim")
    response = client.post(f"/disputes/new/{first}", data={
        "kind": "external_copy", "found_url": "https://social.example/p/1",
        "found_platform": "Instagram", "found_on": "2026-10-30",
        "disputed_file": (io.BytesIO(cropped.read_bytes()), "seen-online.jpg"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302, response.data[:800]
    with app.app_context():
        dispute = db.session.scalars(db.select(Dispute)).one()
        assert dispute.status.value == "under_review" and dispute.respondent_id is None
        assert dispute.comparison["similarity"] > 0.6
        assert dispute.comparison["query"]["registration_number"] is None
        assert not dispute.evidence  # the file was not kept


def test_response_period_is_configurable_and_stated_on_the_form(app, client, cast, two_pictures):
    first, second = two_pictures
    app.config["TAMGA_DISPUTE_RESPONSE_DAYS"] = 30
    cast.login("aigerim")
    form = client.get(f"/disputes/new/{second}").data.decode()
    assert "30 days to answer" in form and "a moderator decides" in form
    dispute_id = _open_through_the_form(client, cast, first, second)
    with app.app_context():
        dispute = db.session.get(Dispute, dispute_id)
        assert dispute.response_due_at - dispute.opened_at == timedelta(days=30)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "kk"
    assert client.get(f"/disputes/{dispute_id}").status_code == 200
    assert client.get("/notifications/").status_code == 200
