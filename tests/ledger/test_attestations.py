"""RFC 3161 time-stamps and witness cosignatures on checkpoints, end to end with a
local openssl time-stamping authority and two tamga-witness processes."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import time

import pytest

from registry.core import tamga_verify as tv
from registry.services import attestations
from tests.registration import post_form, register_form

pytestmark = pytest.mark.slow


def _register(accounts, media, seed: int) -> str:
    return register_form(accounts.client, media.picture(seed), title=f"Picture {seed}")


def _attest(app) -> dict[str, bool]:
    with app.app_context():
        return attestations.attest_all(app.extensions["tamga.settings"])


def _attest_when_due(app, urls=None, seconds: float = 60.0) -> dict[str, bool]:
    """Rounds until every attester (or those of ``urls``) has attested the latest
    checkpoint, or ``seconds`` pass: which attesters did. One round proves little on
    a loaded machine: an attester waits out its one-second spacing, and a request
    that timed out waits out its back-off before the next try."""
    deadline = time.monotonic() + seconds
    done: dict[str, bool] = {}
    while True:
        for url, ok in _attest(app).items():
            done[url] = done.get(url, False) or ok
        if all(done[u] for u in (urls or done)) or time.monotonic() > deadline:
            return done
        time.sleep(0.25)


def _policy_args(attesters) -> list[str]:
    args = []
    for w in attesters.witnesses:
        args += ["--witness-key", w.vkey]
    for t in attesters.tsas:
        args += ["--tsa-cert", str(t.ca)]
    return args + ["--min-witnesses", "2", "--min-timestamps", "2", "--key", attesters.log_vkey]


def test_certificate_carries_two_timestamps_and_two_cosignatures_that_verify(
        app, accounts, media, attesters, tmp_path, capsys):
    accounts.create()
    accounts.login()
    number = _register(accounts, media, 61)
    assert all(_attest_when_due(app).values())
    client = accounts.client
    proof = client.get(f"/w/{number}/proof.json").get_json()
    assert len(proof["timestamps"]) == 2
    assert len(tv.check_cosignatures(proof["checkpoint"], [w.vkey for w in attesters.witnesses])
               ) == 2
    pdf = client.get(f"/w/{number}/certificate.pdf?lang=en").data
    cert = tmp_path / "cert.pdf"
    cert.write_bytes(pdf)
    capsys.readouterr()
    assert tv.main([str(cert), *_policy_args(attesters)]) == 0
    printed = capsys.readouterr().out
    for w in attesters.witnesses:
        assert f"witness cosignature: {w.vkey.split('+')[0]} cosigned" in printed
    for t in attesters.tsas:
        assert f"time-stamp: {t.url}: time" in printed
    assert "Timestamped by 2 authorities, cosigned by 2 witnesses" in printed
    # Without the witnesses' keys and the authorities' certificates, a minimum fails.
    assert tv.main([str(cert), "--min-witnesses", "1"]) == 1
    # Trusting one authority and one witness: the others' attestations are not counted
    # but do not fail either.
    one = ["--tsa-cert", str(attesters.tsas[0].ca), "--min-timestamps", "1",
           "--witness-key", attesters.witnesses[0].vkey, "--min-witnesses", "1"]
    capsys.readouterr()
    assert tv.main([str(cert), *one]) == 0
    assert "time-stamp not checked (warning)" in capsys.readouterr().out
    assert tv.main([str(cert), *one[:2], "--min-timestamps", "2"]) == 1


def _flip(text: str, at: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[at] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_one_flipped_byte_in_any_attestation_fails(app, accounts, media, attesters, tmp_path):
    accounts.create()
    accounts.login()
    number = _register(accounts, media, 62)
    _attest_when_due(app)
    proof = accounts.client.get(f"/w/{number}/proof.json").get_json()
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof))
    assert tv.main([str(path), *_policy_args(attesters)]) == 0
    body, lines = proof["checkpoint"].rsplit("\n\n", 1)
    cosigs = lines.strip("\n").split("\n")[1:]
    assert len(cosigs) == 2
    variants = []
    for i, line in enumerate(cosigs):  # a byte of each cosignature: its time, its signature
        for at in (9, 40):
            name, blob = line.rsplit(" ", 1)
            changed = list(cosigs)
            changed[i] = f"{name} {_flip(blob, at)}"
            variants.append(proof | {"checkpoint": "\n\n".join(
                [body, "\n".join([lines.split("\n")[0], *changed]) + "\n"])})
    for i in range(2):  # a byte deep inside each time-stamp response
        stamps = [dict(t) for t in proof["timestamps"]]
        der = base64.b64decode(stamps[i]["response"])
        stamps[i]["response"] = _flip(stamps[i]["response"], len(der) // 2)
        variants.append(proof | {"timestamps": stamps})
    for variant in variants:
        path.write_text(json.dumps(variant))
        assert tv.main([str(path), *_policy_args(attesters)]) == 1


def test_every_damaged_byte_of_a_timestamp_is_answered_and_the_signed_ones_refused(
        app, accounts, media, attesters):
    """Each byte of a time-stamp response flipped in turn. The verifier always answers
    (a damaged name in the embedded certificate once raised ValueError out of
    tamga-verify: cryptography reads names lazily) and refuses every flip except in
    the few fields no signature covers (CMS version numbers, the algorithm's name)."""
    from cryptography import x509

    accounts.create()
    accounts.login()
    number = _register(accounts, media, 72)
    _attest_when_due(app)
    proof = accounts.client.get(f"/w/{number}/proof.json").get_json()
    digest = tv.checkpoint_digest(proof["checkpoint"])
    roots = [x509.load_pem_x509_certificate(t.ca.read_bytes()) for t in attesters.tsas]
    der = base64.b64decode(proof["timestamps"][0]["response"])
    assert tv.check_timestamp(der, digest, roots)[0]
    accepted = []
    for at in range(len(der)):
        damaged = bytearray(der)
        damaged[at] ^= 0x01
        ok, detail = tv.check_timestamp(bytes(damaged), digest, roots)  # never raises
        assert isinstance(detail, str) and detail
        if ok:
            accepted.append(at)
    # Two one-byte version numbers and the eight bytes of one algorithm identifier.
    assert len(accepted) <= 12, accepted


def test_timestamps_are_published_as_der_and_verify_with_stock_openssl(
        app, accounts, media, attesters, tmp_path):
    accounts.create()
    accounts.login()
    _register(accounts, media, 63)
    _attest_when_due(app)
    client = accounts.client
    size = tv.parse_checkpoint(tv.note_body(client.get("/api/v1/ledger/checkpoint").text)).size
    listing = client.get(f"/api/v1/ledger/checkpoints/{size}/timestamps")
    assert listing.status_code == 200
    found = listing.get_json()
    assert len(found["timestamps"]) == 2
    note = client.get(f"/api/v1/ledger/checkpoints/{size}").text
    digest = hashlib.sha256(tv.note_body(note).encode()).hexdigest()
    assert found["message_sha256"] == digest
    for item, tsa in zip(found["timestamps"], attesters.tsas, strict=True):
        der = client.get(item["url"])
        assert der.mimetype == "application/timestamp-reply"
        (tmp_path / "reply.tsr").write_bytes(der.data)
        ok = subprocess.run(["openssl", "ts", "-verify", "-in", str(tmp_path / "reply.tsr"),
                             "-digest", digest, "-CAfile", str(tsa.ca)],
                            capture_output=True, text=True)
        assert ok.returncode == 0 and "Verification: OK" in ok.stdout, ok.stderr
        bad = subprocess.run(["openssl", "ts", "-verify", "-in", str(tmp_path / "reply.tsr"),
                              "-digest", "00" * 32, "-CAfile", str(tsa.ca)],
                             capture_output=True, text=True)
        assert bad.returncode != 0
    cosigned = client.get("/api/v1/ledger/checkpoint").text
    assert len(tv.check_cosignatures(cosigned, [w.vkey for w in attesters.witnesses])) == 2
    assert client.get(f"/api/v1/ledger/checkpoints/{size + 50}/timestamps").status_code == 404


def _forged_ledger(tmp_path, keys_dir, entries: list[dict]) -> tuple[str, list, object]:
    """The operator's second ledger: same key, same origin, a different history."""
    from sqlalchemy import create_engine

    from registry.core.ledger import store
    from registry.core.ledger.keys import load_keyring
    from registry.core.sql import metadata
    from tests.ledger.conftest import ORIGIN

    engine = create_engine(f"sqlite:///{tmp_path / 'forged.db'}")
    metadata.create_all(engine, tables=store.LEDGER_TABLES)
    ring = load_keyring(keys_dir)
    with engine.begin() as conn:
        for entry in entries:
            store.append(conn, entry, ring, ORIGIN)
    return engine, ring, store


def test_a_rewritten_history_is_refused_by_a_witness_that_saw_the_first(
        app, accounts, media, attesters, tmp_path):
    from registry.core.ledger import attest

    accounts.create()
    accounts.login()
    for seed in (64, 65):
        _register(accounts, media, seed)
    assert all(_attest_when_due(app).values())
    witness = attesters.witnesses[0]
    target = attest.WitnessTarget(witness.vkey, witness.url)
    at = "2026-01-01T00:00:00.000000Z"
    # Same size (2), a different entry at index 0.
    engine, ring, store = _forged_ledger(tmp_path, attesters.keys_dir, [
        {"kind": "work.registered", "at": at, "registration_number": "KZ-2020-000001"},
        {"kind": "work.registered", "at": at, "registration_number": "KZ-2020-000002"},
    ])
    with engine.connect() as conn:
        forged = store.latest_checkpoint(conn).note
    with pytest.raises(attest.AttestError) as refused:
        attest.add_checkpoint(target, 2, [], forged)
    assert "HTTP 422" in str(refused.value)
    # A longer rewritten history, with a consistency proof from its own size 2: refused too.
    with engine.begin() as conn:
        store.append(conn, {"kind": "work.registered", "at": at,
                            "registration_number": "KZ-2020-000003"}, ring, "tamga.test/ledger")
        longer = store.latest_checkpoint(conn).note
        proof = store.consistency_proof(conn, 2, 3)
    with pytest.raises(attest.AttestError):
        attest.add_checkpoint(target, 2, proof, longer)
    message = witness.log_text()
    print(message)  # the witness's own words, shown with pytest -s
    refusals = [line for line in message.splitlines() if "REFUSED" in line]
    assert len(refusals) == 2
    assert "not consistent with the checkpoint of size 2" in refusals[0]
    assert "a split view or a rewritten history" in refusals[0]
    # The genuine log still gets cosigned.
    post_form(accounts.client, media.picture(66))
    assert _attest_when_due(app)[witness.url] is True


def test_dead_authority_and_witness_lose_nothing(app, accounts, media, attesters, tmp_path):
    from registry.core.ledger import attestations as att
    from registry.extensions import db

    accounts.create()
    accounts.login()
    dead_tsa, dead_witness = attesters.tsas[0], attesters.witnesses[1]
    dead_tsa.down = True
    dead_witness.stop()
    numbers = [_register(accounts, media, seed) for seed in (67, 68)]
    done = _attest(app)
    assert done[dead_tsa.url] is False and done[dead_witness.url] is False
    requests = dead_tsa.requests
    _attest(app)  # at once: within the 2 s back-off nothing is sent to them again
    assert dead_tsa.requests == requests
    assert done[attesters.tsas[1].url] and done[attesters.witnesses[0].url]
    numbers.append(_register(accounts, media, 69))  # registration goes on meanwhile
    with app.app_context():
        from registry.services import works

        for number in numbers:
            work = works.find_work(number)
            assert work.status.value == "registered" and work.ledger_index is not None
        rows = {a.target: a for a in att.all_attesters(db.session.connection())}
        failed = rows[dead_tsa.url]
        assert failed.failures >= 1 and failed.next_attempt_at is not None
        assert "503" in failed.last_error
        assert rows[dead_witness.vkey].failures >= 1
    # They come back (the witness restarted on its old state); after the back-off the
    # attestations arrive, for a checkpoint that covers every registration.
    dead_tsa.down = False
    dead_witness.start()
    # At most two failures in a row: a back-off of at most 4 s, then they attest.
    done = _attest_when_due(app, [dead_tsa.url, dead_witness.url])
    assert done[dead_tsa.url] and done[dead_witness.url]
    for number in numbers:
        proof = accounts.client.get(f"/w/{number}/proof.json").get_json()
        assert len(proof["timestamps"]) == 2
        assert len(tv.check_cosignatures(
            proof["checkpoint"], [w.vkey for w in attesters.witnesses])) == 2
        checks = tv.verify_proof_bundle(proof, [attesters.log_vkey], policy=tv.AttestationPolicy(
            witness_keys=tuple(w.vkey for w in attesters.witnesses),
            tsa_roots=tuple(t.ca.read_text() for t in attesters.tsas),
            min_witnesses=2, min_timestamps=2))
        assert all(c.ok for c in checks), checks
    with app.app_context():
        assert all(a.failures == 0 for a in att.all_attesters(db.session.connection()))


def test_status_page_and_verify_page_show_the_attestations(app, accounts, media, attesters):
    accounts.create("mod@example.kz", role="moderator")
    accounts.login("mod@example.kz")
    attesters.tsas[1].down = True
    number = _register(accounts, media, 71)
    _attest(app)
    client = accounts.client
    page = client.get("/moderation/attestations")
    assert page.status_code == 200
    text = page.text
    for tsa in attesters.tsas:
        assert tsa.url in text
    for w in attesters.witnesses:
        assert w.url in text
    assert "HTTP 503" in text and "Failures in a row" in text
    verify = client.get(f"/verify?number={number}")
    assert verify.status_code == 200
    assert "Timestamped by 1 authorities, cosigned by 2 witnesses" in verify.text
    assert "An independent witness cosigned the checkpoint" in verify.text
    assert "An independent time-stamping authority dated the checkpoint" in verify.text
    accounts.logout()
    accounts.create("creator@example.kz")
    accounts.login("creator@example.kz")
    assert client.get("/moderation/attestations").status_code == 403
