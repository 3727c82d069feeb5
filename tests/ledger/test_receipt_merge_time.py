"""A receipt's merge time shown offline (issue 13, item 3): when a witness or a
time-stamping authority the verifier trusts attested a checkpoint holding the entry by
the receipt's deadline, ``tamga-verify RECEIPT.json --proof`` says "in time"; when the
only attestation came later, it says so and does not claim either way."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from registry.core import tamga_verify as tv
from tests.ledger.test_attestations import _attest_when_due, _policy_args, _register

pytestmark = pytest.mark.slow


def _files(accounts, number, tmp_path, name):
    receipt = tmp_path / f"{name}-receipt.json"
    receipt.write_bytes(accounts.client.get(f"/works/{number}/receipt.json").data)
    proof = tmp_path / f"{name}-proof.json"
    proof.write_bytes(accounts.client.get(f"/w/{number}/proof.json").data)
    return str(receipt), str(proof)


def test_merge_time_is_shown_by_trusted_attestations(app, accounts, media, attesters,
                                                     tmp_path, capsys):
    accounts.create()
    accounts.login()
    number = _register(accounts, media, 81)
    assert all(_attest_when_due(app).values())
    receipt, proof = _files(accounts, number, tmp_path, "on-time")
    capsys.readouterr()
    assert tv.main([receipt, "--proof", proof, "--strict", *_policy_args(attesters)]) == 0
    out = capsys.readouterr().out
    assert "merge time: in time:" in out and "before the deadline" in out

    # Without trusted attesters the proof cannot date the merge: a warning.
    assert tv.main([receipt, "--proof", proof, "--key", attesters.log_vkey]) == 0
    assert "merge time (warning): not shown" in capsys.readouterr().out
    assert tv.main([receipt, "--proof", proof, "--key", attesters.log_vkey, "--strict"]) == 1

    # A one-second promise, attested only two seconds later: not shown either way.
    app.extensions["tamga.settings"] = replace(app.extensions["tamga.settings"],
                                               max_merge_seconds=1)
    late = _register(accounts, media, 82)
    time.sleep(2.1)
    assert all(_attest_when_due(app).values())
    receipt, proof = _files(accounts, late, tmp_path, "late")
    capsys.readouterr()
    assert tv.main([receipt, "--proof", proof, *_policy_args(attesters)]) == 0
    out = capsys.readouterr().out
    assert "merge time (warning): not shown: this checkpoint was first attested at" in out
    assert "after the deadline" in out
