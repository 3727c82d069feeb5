"""Issue 12, item 6: API tokens kept working after a password change or reset. Now both
revoke every token; tokens carry scopes (register, lookup, read) and an optional expiry,
``flask tokens create`` takes them; the tokens page shows each token's last use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from registry.extensions import db
from registry.models.user import User
from registry.services import accounts as accounts_service
from registry.services import tokens
from tests.lookup.test_lookup_limits import ZEROS, make_token

PASSWORD = "correct horse battery"


def _lookup(client, secret: str) -> int:
    return client.post("/api/v1/lookup", json=ZEROS,
                       headers={"Authorization": f"Bearer {secret}"}).status_code


def test_a_password_change_revokes_the_tokens(app, client, accounts):
    secret = make_token(app, accounts)
    assert _lookup(client, secret) == 200
    accounts.login("api@example.kz")
    response = client.post("/account/password", data={
        "current": PASSWORD, "password": "a brand new secret phrase",
        "password_confirm": "a brand new secret phrase"})
    assert response.status_code == 302
    assert _lookup(client, secret) == 401


def test_a_password_reset_revokes_the_tokens(app, client, accounts):
    secret = make_token(app, accounts)
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="api@example.kz"))
        link = accounts_service.make_reset_token(user, app.config["SECRET_KEY"])
    response = client.post(f"/reset/{link}", data={"password": "a brand new secret phrase",
                                                   "password_confirm": "a brand new secret phrase"})
    assert response.status_code == 302
    assert _lookup(client, secret) == 401


def test_scopes_and_expiry(app, client, accounts):
    user_id = accounts.create("scoped@example.kz")
    with app.app_context():
        user = db.session.get(User, user_id)
        reader = tokens.create_token(user, "reader", scopes=["read"]).secret
        finder = tokens.create_token(user, "finder", scopes="lookup").secret
        expired = tokens.create_token(user, "old", expires_at=datetime.now(UTC)
                                      - timedelta(seconds=1)).secret
        db.session.commit()
    assert _lookup(client, reader) == 403
    assert _lookup(client, finder) == 200
    assert _lookup(client, expired) == 401
    assert client.post("/api/v1/works", headers={"Authorization": f"Bearer {finder}"},
                       data={}).status_code == 403


def test_the_cli_takes_scopes_and_expiry(app, runner, accounts):
    accounts.create("cli@example.kz")
    result = runner.invoke(args=["tokens", "create", "cli@example.kz", "--scope", "lookup",
                                 "--scope", "read", "--expires-days", "30"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        token = tokens.find_live_token(result.output.strip().splitlines()[-1])
        assert token.scopes == "lookup read"
        assert timedelta(days=29) < token.expires_at - datetime.now(UTC) <= timedelta(days=30)
    bad = runner.invoke(args=["tokens", "create", "cli@example.kz", "--scope", "admin"])
    assert bad.exit_code != 0
