"""POST /api/v1/works: authors listed with an ``email`` are asked to confirm (issue 20)."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from tests.api.test_api_works import error_of
from tests.registration import post_api


def test_an_author_listed_with_an_email_is_invited(client, app, make_account, media):
    from registry.extensions import db
    from registry.models import CoAuthorInvitation, Job, Notification

    aigerim = make_account()
    dana = make_account("dana@example.kz", name="Dana")
    authors = json.dumps([
        {"full_name": "Aigerim", "role": "photographer", "share": 70},
        {"full_name": "Dana Ospan", "role": "editor", "share": 30,
         "email": "Dana@Example.kz"}])
    response = post_api(client, aigerim, media.photo(1), authors=authors)
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["registration_number"]
    with app.app_context():
        [inv] = db.session.scalars(select(CoAuthorInvitation)).all()
        assert (inv.email, inv.position, inv.role, inv.user_id) == (
            "dana@example.kz", 1, "editor", dana.user_id)
        note = db.session.scalar(select(Notification).filter_by(user_id=dana.user_id))
        assert note.kind == "coauthor_invited" and note.params["work"] == number
        mails = [j.payload for j in db.session.scalars(select(Job).filter_by(kind="mail.send"))]
        assert any(m["to"] == "dana@example.kz" for m in mails)
    record = client.get(f"/api/v1/works/{number}").get_json()
    assert "email" not in json.dumps(record["authors"])  # never shown back
    assert record["authors"][1]["confirmation"]["status"] == "pending"


def test_a_bad_author_email_registers_nothing(client, app, api_account, media):
    from registry.extensions import db
    from registry.models import CoAuthorInvitation, Work

    for email, status in (("not an address", 422), (42, 422)):
        authors = json.dumps([
            {"full_name": "Aigerim", "role": "photographer", "share": 50},
            {"full_name": "Dana", "role": "editor", "share": 50, "email": email}])
        response = post_api(client, api_account, media.photo(1), authors=authors)
        assert response.status_code == status, response.get_json()
        assert error_of(response)["code"] == "validation_failed"
    with app.app_context():
        assert db.session.scalar(select(func.count(Work.id))) == 0
        assert db.session.scalar(select(func.count(CoAuthorInvitation.id))) == 0
