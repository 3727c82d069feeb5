"""One checkpoint per interval under load, signed and attested by the periodic task."""

from __future__ import annotations

import time

import pytest

from registry.core import tamga_verify as tv
from registry.core.ledger import store
from registry.extensions import db
from tests.registration import register_form


@pytest.mark.app_config({"TAMGA_CHECKPOINT_INTERVAL": 3600.0})
def test_appends_within_the_interval_share_one_checkpoint_signed_by_the_ticker(
        app, accounts, media, attesters):
    from registry import tasks

    accounts.create()
    accounts.login()
    numbers = [register_form(accounts.client, media.picture(70 + i), title=f"P{i}")
               for i in range(3)]
    with app.app_context():
        conn = db.session.connection()
        assert store.tree_size(conn) == 3
        assert store.latest_checkpoint(conn).tree_size == 1  # the first append's only
    # Until a checkpoint covers it, the third work's proof is not ready.
    assert accounts.client.get(f"/w/{numbers[2]}/proof.json").status_code == 409
    ticker = tasks.start_attestation_ticker(app)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            proof = accounts.client.get(f"/w/{numbers[2]}/proof.json")
            if proof.status_code == 200 and len(proof.get_json()["timestamps"]) == 2 and len(
                    tv.check_cosignatures(proof.get_json()["checkpoint"],
                                          [w.vkey for w in attesters.witnesses])) == 2:
                break
            time.sleep(0.3)
        else:
            pytest.fail("the ticker did not checkpoint and attest the new entries")
    finally:
        ticker.stop()
    with app.app_context():
        conn = db.session.connection()
        sizes = [cp.tree_size for cp in (store.checkpoint_at(conn, s) for s in range(1, 4)) if cp]
        assert sizes == [1, 3]  # one checkpoint for the two later appends
        assert store.verify_ledger(conn, [attesters.log_vkey],
                                   every_size_checkpointed=False).ok
    # Each TSA got one request per checkpoint it stamped, not one per append.
    assert all(t.requests <= 2 for t in attesters.tsas)
