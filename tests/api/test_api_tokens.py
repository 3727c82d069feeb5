"""Token service rules, the profile's token page, and the API's rate limit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from registry.core.errors import NotFound, ValidationFailed


def _user(app, user_id):
    from registry.extensions import db
    from registry.models.user import User

    return db.session.get(User, user_id)


def test_last_used_is_written_at_most_once_a_minute(app, accounts):
    from registry.extensions import db
    from registry.services import tokens

    user_id = accounts.create()
    with app.app_context():
        created = tokens.create_token(_user(app, user_id), "script")
        token = tokens.find_live_token(created.secret)
        start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
        assert tokens.mark_used(token, now=start)
        assert not tokens.mark_used(token, now=start + timedelta(seconds=59))
        assert token.last_used_at == start
        assert tokens.mark_used(token, now=start + timedelta(seconds=61))
        db.session.commit()


def test_revoke_is_per_owner_and_names_are_checked(app, accounts):
    from registry.extensions import db
    from registry.services import tokens

    owner = accounts.create("owner@example.kz")
    other = accounts.create("other@example.kz")
    with app.app_context():
        created = tokens.create_token(_user(app, owner), "ci")
        with pytest.raises(NotFound):
            tokens.revoke_token(_user(app, other), created.token.id)
        with pytest.raises(ValidationFailed):
            tokens.create_token(_user(app, owner), "   ")
        tokens.revoke_token(_user(app, owner), created.token.id)
        db.session.commit()
        assert tokens.find_live_token(created.secret) is None
        assert tokens.find_live_token("tmg_" + "x" * 43) is None
        assert tokens.find_live_token(created.secret[4:]) is None


def test_profile_page_creates_shows_once_and_revokes(client, app, accounts):
    accounts.create()
    accounts.login()
    assert b"/account/tokens" in client.get("/account/profile").data
    page = client.post("/account/tokens", data={"name": "studio laptop"})
    assert page.status_code == 200
    secret = re.search(r"tmg_[A-Za-z0-9_-]{43}", page.get_data(as_text=True)).group(0)
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "studio laptop" in listing and secret not in listing and secret[:12] in listing

    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/works/KZ-2026-000001", headers=headers).status_code == 404

    from registry.extensions import db
    from registry.models.token import ApiToken

    with app.app_context():
        token_id = db.session.query(ApiToken.id).scalar()
    revoked = client.post("/account/tokens/revoke", data={"token_id": str(token_id)},
                          follow_redirects=True)
    assert "is revoked" in revoked.get_data(as_text=True)
    assert client.get("/api/v1/works/KZ-2026-000001", headers=headers).status_code == 401


def test_token_names_are_escaped(client, accounts):
    accounts.create()
    accounts.login()
    page = client.post("/account/tokens", data={"name": "<b>bold</b>"}).get_data(as_text=True)
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_token_page_needs_login(client):
    response = client.get("/account/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_rate_limit_is_per_token(client, app, make_account):
    app.config["TAMGA_API_RATE_LIMIT"] = "3 per minute"
    first = make_account("first@example.kz")
    second = make_account("second@example.kz")
    url = "/api/v1/works/KZ-2026-000001"
    statuses = [client.get(url, headers=first.headers).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    limited = client.get(url, headers=first.headers)
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    assert client.get(url, headers=second.headers).status_code == 404
