"""``flask tokens create/list/revoke``: the printed token works until it is revoked."""

from __future__ import annotations

import re


def test_create_prints_a_working_token_then_revoke_refuses_it(app, runner, client, accounts):
    accounts.create("aigerim@example.kz")
    created = runner.invoke(args=["tokens", "create", "aigerim@example.kz", "--name", "laptop"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"tmg_[A-Za-z0-9_-]{43}", secret)

    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/works/KZ-2026-000001", headers=headers).status_code == 404

    listed = runner.invoke(args=["tokens", "list", "aigerim@example.kz"])
    assert listed.exit_code == 0
    assert "laptop" in listed.output and secret[:12] in listed.output
    assert secret not in listed.output and "active" in listed.output
    assert "last used never" not in listed.output  # the request above was recorded
    token_id = listed.output.split("\t", 1)[0]

    revoked = runner.invoke(args=["tokens", "revoke", token_id])
    assert revoked.exit_code == 0, revoked.output
    refused = client.get("/api/v1/works/KZ-2026-000001", headers=headers)
    assert refused.status_code == 401
    assert "revoked" in runner.invoke(args=["tokens", "list"]).output


def test_only_the_hash_is_stored(app, runner, accounts):
    from registry.extensions import db
    from registry.models.token import ApiToken
    from registry.services.tokens import hash_token

    accounts.create("aigerim@example.kz")
    secret = runner.invoke(args=["tokens", "create", "aigerim@example.kz"]).stdout.strip()
    with app.app_context():
        token = db.session.query(ApiToken).one()
        assert token.token_hash == hash_token(secret) and secret not in token.token_hash
        assert token.prefix == secret[:12]


def test_unknown_account_and_token_are_clean_errors(runner):
    missing = runner.invoke(args=["tokens", "create", "nobody@example.kz"])
    assert missing.exit_code != 0 and "No account" in missing.output
    unknown = runner.invoke(args=["tokens", "revoke", "999"])
    assert unknown.exit_code != 0 and "no token 999" in unknown.output
