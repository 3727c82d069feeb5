"""Issue 12, item 7: public ledger entries carried ``registrant_account`` (an account id),
so the owner of a private work could be identified. Now: a salted commitment the owner
opens with their ledger secret, checked offline by ``tamga-verify --account``."""

from __future__ import annotations

import re

from registry.core import tamga_verify as tv
from registry.core.ledger import commitment
from registry.extensions import db
from registry.models import User
from registry.services import evidence
from registry.web.utils import registry_settings


def _entries(client) -> list[dict]:
    return client.get("/api/v1/ledger/entries?start=0&end=100").get_json()["entries"]


def _account_ids(value, found: list) -> list:
    """Every integer under a key that names an account, anywhere in an entry."""
    if isinstance(value, dict):
        for key, item in value.items():
            if "account" in key and not isinstance(item, str):
                found.append((key, item))
            _account_ids(item, found)
    elif isinstance(value, list):
        for item in value:
            _account_ids(item, found)
    return found


def test_public_entries_carry_a_commitment_not_the_account(app, cast, media, client, tmp_path):
    mine = cast.register("aigerim", media.picture(21), "Public one")
    hidden = cast.register("bolat", media.picture(22), "Hidden one", visibility="private")
    hidden2 = cast.register("bolat", media.picture(23), "Hidden two", visibility="private")
    entries = {e["entry"]["registration_number"]: e["entry"] for e in _entries(client)}
    for entry in entries.values():
        assert _account_ids(entry, []) == []
        assert re.fullmatch(r"hmac-sha256:[0-9a-f]{64}", entry["registrant_commitment"])
    # Different works of one owner do not share a commitment (cannot be grouped).
    assert entries[hidden]["registrant_commitment"] != entries[hidden2]["registrant_commitment"]
    with app.app_context():
        bolat = db.session.get(User, cast.ids["bolat"])
        secret = bolat.ledger_secret
        assert commitment.opens(entries[hidden]["registrant_commitment"], bolat.id, secret,
                                hidden)
        assert not commitment.opens(entries[mine]["registrant_commitment"], bolat.id, secret,
                                    mine)
        assert not commitment.opens(entries[hidden]["registrant_commitment"],
                                    cast.ids["aigerim"], secret, hidden)
        bundle = evidence.work_bundle(cast.work(hidden), bolat, "en", registry_settings())
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle)
    assert tv.main([str(path), "--account", f"{bolat.id}:{secret}"]) == 0
    assert tv.main([str(path), "--account", f"{bolat.id}:{'00' * 32}"]) == 1
    assert tv.main([str(path), "--account", f"{cast.ids['aigerim']}:{secret}"]) == 1


def test_the_owner_sees_their_ledger_secret(app, cast):
    cast.login("bolat")
    page = cast.accounts.client.get("/account/security")
    assert page.status_code == 200
    with app.app_context():
        secret = db.session.get(User, cast.ids["bolat"]).ledger_secret
    assert f"{cast.ids['bolat']}:{secret}" in page.get_data(as_text=True)


def test_the_standalone_copy_equals_the_core_function():
    secret = commitment.new_secret()
    for account, context in [(1, "KZ-2026-000001"), (99, "D-2026-000003"), (7, "")]:
        assert tv.account_commitment(account, secret, context) == commitment.commit(
            account, secret, context)
