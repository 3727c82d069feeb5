"""Certificates, the ledger's public endpoints and the /verify page."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest

from registry.core import tamga_verify as tv
from tests.registration import register_form


@pytest.fixture
def registered(app, accounts, media):
    """Two registered works (an image and a recording) of one creator."""
    app.config["TAMGA_WORKER"] = "sync"
    accounts.create()
    accounts.login()
    return [register_form(accounts.client, media.picture(51)),
            register_form(accounts.client, media.song("song_a"), work_type="sound_recording",
                          visibility="private", title="Private song")]


def _keys(client) -> list[str]:
    return [key["vkey"] for key in client.get("/api/v1/ledger/keys").get_json()["keys"]]


def test_checkpoint_is_a_signed_note_that_verifies_with_the_published_key(client, registered):
    note = client.get("/api/v1/ledger/checkpoint").data.decode()
    body, names = tv.verify_note(note, _keys(client))
    assert names
    checkpoint = tv.parse_checkpoint(body)
    assert checkpoint.size == 2
    assert client.get("/api/v1/ledger/checkpoints/1").status_code == 200
    assert client.get("/api/v1/ledger/checkpoints/99").status_code == 404


def test_entries_inclusion_and_consistency_proofs_verify(client, registered):
    entries = client.get("/api/v1/ledger/entries?start=0&end=2").get_json()["entries"]
    assert [e["entry"]["kind"] for e in entries] == ["work.registered"] * 2
    assert "title" not in entries[1]["entry"]  # a private work's title stays out
    for entry in entries:
        data = base64.b64decode(entry["entry_b64"])
        proof = client.get(f"/api/v1/ledger/proof/inclusion?index={entry['leaf_index']}&size=2"
                           ).get_json()
        tv.verify_inclusion(tv.leaf_hash(data), entry["leaf_index"], 2,
                            [base64.b64decode(h) for h in proof["proof"]],
                            base64.b64decode(proof["root_hash"]))
    consistency = client.get("/api/v1/ledger/proof/consistency?old=1&new=2").get_json()
    tv.verify_consistency(1, 2, [base64.b64decode(h) for h in consistency["proof"]],
                          base64.b64decode(consistency["old_root"]),
                          base64.b64decode(consistency["new_root"]))
    bad = client.get("/api/v1/ledger/proof/inclusion?index=5&size=2")
    assert bad.status_code == 422 and bad.get_json()["error"]["code"]


def test_certificate_pdf_verifies_offline_and_fails_with_one_changed_byte(
        client, registered, media, tmp_path):
    number = registered[0]
    response = client.get(f"/w/{number}/certificate.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.data
    original = media.picture(51).read_bytes()
    sha = hashlib.sha256(original).hexdigest()
    checks = tv.verify_certificate(pdf, _keys(client), file_sha256=sha)
    assert all(c.ok for c in checks), checks
    cert, orig = tmp_path / "cert.pdf", tmp_path / "original.jpg"
    cert.write_bytes(pdf)
    orig.write_bytes(original)
    assert tv.main([str(cert), "--file", str(orig)]) == 0
    tampered = bytearray(pdf)
    tampered[len(pdf) // 2] ^= 0x01
    cert.write_bytes(bytes(tampered))
    assert tv.main([str(cert), "--file", str(orig)]) == 1
    cert.write_bytes(pdf)
    orig.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    assert tv.main([str(cert), "--file", str(orig)]) == 1


def test_certificate_is_the_same_when_issued_twice_and_in_every_language(client, registered):
    number = registered[0]
    first = client.get(f"/w/{number}/certificate.pdf").data
    assert client.get(f"/w/{number}/certificate.pdf").data == first
    for lang in ("kk", "ru", "en"):
        assert client.get(f"/w/{number}/certificate.pdf?lang={lang}").status_code == 200
    assert client.get(f"/w/{number}/certificate.pdf?lang=xx").status_code == 422


def test_private_certificates_only_for_the_owner(app, client, registered):
    private = registered[1]
    assert client.get(f"/w/{private}/certificate.pdf").status_code == 200
    anonymous = app.test_client()
    assert anonymous.get(f"/w/{private}/certificate.pdf").status_code == 404
    assert anonymous.get(f"/w/{registered[0]}/certificate.pdf").status_code == 200


def test_verify_page_checks_a_number_and_the_original_file(app, registered, media):
    anonymous = app.test_client()
    data = {"number": registered[0],
            "original": (io.BytesIO(media.picture(51).read_bytes()), "photo.jpg")}
    page = anonymous.post("/verify", data=data, content_type="multipart/form-data")
    assert page.status_code == 200
    assert b"Everything checks out" in page.data
    assert b"exactly the registered file" in page.data
    wrong = anonymous.post("/verify", data={
        "number": registered[0], "original": (io.BytesIO(b"something else"), "x.jpg")},
        content_type="multipart/form-data")
    assert wrong.status_code == 422 and b"Verification failed" in wrong.data


def test_verify_page_checks_an_uploaded_certificate_in_kazakh(app, client, registered):
    pdf = client.get(f"/w/{registered[0]}/certificate.pdf").data
    anonymous = app.test_client()
    page = anonymous.post("/verify", data={"certificate": (io.BytesIO(pdf), "c.pdf")},
                          content_type="multipart/form-data",
                          headers={"Accept-Language": "kk"})
    assert page.status_code == 200
    assert b'lang="kk"' in page.data
    assert b"The entry is included in the checkpoint" not in page.data  # steps in Kazakh
    tampered = pdf.replace(b"%%EOF", b"%%EOG", 1)
    bad = anonymous.post("/verify", data={"certificate": (io.BytesIO(tampered), "c.pdf")},
                         content_type="multipart/form-data")
    assert bad.status_code == 422


def test_certificate_of_a_work_still_processing_is_409(app, accounts, media):
    app.config["TAMGA_WORKER"] = "off"
    accounts.create()
    accounts.login()
    number = register_form(accounts.client, media.picture(52))
    assert accounts.client.get(f"/w/{number}/certificate.pdf").status_code == 409


def test_qr_code_link_runs_the_checks_for_that_number(app, registered):
    page = app.test_client().get(f"/verify?number={registered[0]}")
    assert page.status_code == 200 and b"Everything checks out" in page.data
