"""AI-training reservations in every published form, the check API and the signed export."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from registry.core.ledger.canonical import canonical_json
from registry.core.tamga_verify import parse_verifier_key, verify_proof_bundle
from tests.registration import post_api, register_api

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "fixtures"
                     / "tdmrep.schema.json").read_text())


@pytest.fixture
def two_works(client, app, owner, files):
    reserved = register_api(client, app, owner, files.plain)  # the profile's default: reserved
    free = register_api(client, app, owner, files.second_plain, ai_training_opt_out="false")
    return reserved, free


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_tdmrep_headers_robots_and_policy(client, two_works):
    reserved, free = two_works
    rules = client.get("/.well-known/tdmrep.json").get_json()
    jsonschema.validate(rules, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [r["location"] for r in rules] == [f"/w/{reserved}*"]
    assert rules[0]["tdm-reservation"] == 1
    policy_url = rules[0]["tdm-policy"]

    policy = client.get(policy_url)
    assert policy.mimetype == "application/ld+json"
    document = policy.get_json(force=True)
    assert document["profile"] == "http://www.w3.org/ns/tdmrep" and document["uid"] == policy_url

    for url in (f"/w/{reserved}", f"/w/{reserved}/thumbnail.jpg",
                f"/w/{reserved}/certificate.pdf"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["tdm-reservation"] == "1"
        assert response.headers["tdm-policy"] == policy_url
        assert response.headers["Content-Usage"] == "train-ai=n"
        assert response.headers["X-Robots-Tag"] == "noai, noimageai"
        response.close()
    page = client.get(f"/w/{reserved}").get_data(as_text=True)
    assert '<meta name="robots" content="noai, noimageai">' in page
    other = client.get(f"/w/{free}")
    assert "tdm-reservation" not in other.headers and "Content-Usage" not in other.headers
    assert "noimageai" not in other.get_data(as_text=True)

    robots = client.get("/robots.txt")
    assert robots.mimetype == "text/plain"
    groups = robots.get_data(as_text=True).split("\n\n")
    assert f"Content-Usage: /w/{reserved} train-ai=n" in groups[0].splitlines()
    assert f"/w/{free}" not in robots.get_data(as_text=True)
    assert "User-agent: GPTBot" in groups[1] and f"Disallow: /w/{reserved}" in groups[1]


def test_originals_and_credentialed_copies_carry_the_headers_too(client, app, owner, files):
    from registry.extensions import db
    from registry.services.works import find_work

    reserved = register_api(client, app, owner, files.plain)
    free = register_api(client, app, owner, files.second_plain, ai_training_opt_out="false")
    with app.app_context():  # the owner lets anyone download the original (a site setting)
        for number in (reserved, free):
            find_work(number).publish_original = True
        db.session.commit()
    for url in (f"/w/{reserved}/original", f"/api/v1/works/{reserved}/credentialed"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["tdm-reservation"] == "1", url
        assert response.headers["Content-Usage"] == "train-ai=n", url
        assert response.headers["X-Robots-Tag"] == "noai, noimageai", url
        response.close()
    for url in (f"/w/{free}/original", f"/api/v1/works/{free}/credentialed"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "tdm-reservation" not in response.headers and "Content-Usage" not in \
            response.headers, url
        response.close()


def test_reservation_changes_are_ledger_entries(client, app, owner, two_works):
    from registry.extensions import db
    from registry.models import User
    from registry.services import works
    from registry.services.metadata_input import metadata_from_fields
    from registry.web.utils import registry_settings

    reserved, _free = two_works
    with app.test_request_context():
        user = db.session.get(User, owner.user_id)
        work = works.find_work(reserved)
        meta = metadata_from_fields({"title": work.title, "work_type": "photograph",
                                     "ai_training_opt_out": "false"}, user)
        works.amend_work(user, work, meta, note=None, settings=registry_settings())
        db.session.commit()
    entries = client.get("/api/v1/ledger/entries?start=0&end=10").get_json()["entries"]
    changes = [e["entry"] for e in entries if e["entry"]["kind"] == "work.reservation_changed"]
    assert changes == [{**changes[0], "registration_number": reserved,
                        "ai_training_reserved": False}]
    assert client.get("/.well-known/tdmrep.json").get_json() == []
    answer = client.post("/api/v1/reservations/check", json={"sha256": [
        client.get(f"/api/v1/works/{reserved}").get_json()["sha256"]]}).get_json()
    assert answer["results"][0]["reserved"] is False


def test_check_api_answers_with_dates_and_inclusion_proofs(client, app, owner, files,
                                                           two_works):
    reserved, free = two_works
    record = client.get(f"/api/v1/works/{reserved}").get_json()
    unknown = "ab" * 32
    body = {"sha256": [sha(files.plain).upper(), sha(files.second_plain), unknown],
            "iscc": [record["iscc"]]}
    results = client.post("/api/v1/reservations/check", json=body).get_json()["results"]
    assert [r["key"] for r in results] == [sha(files.plain), sha(files.second_plain), unknown,
                                           record["iscc"]]
    first, second, none, by_iscc = results
    assert first["registration_number"] == reserved and first["reserved"] is True
    assert first["reserved_since"].startswith(record["registered_at"][:19])
    vkeys = [k["vkey"] for k in client.get("/api/v1/ledger/keys").get_json()["keys"]]
    checks = verify_proof_bundle(first["inclusion_proof"], vkeys, file_sha256=sha(files.plain))
    assert all(c.ok for c in checks), checks
    entry = json.loads(base64.b64decode(first["inclusion_proof"]["entry"]))
    assert entry["ai_training_reserved"] is True and entry["registration_number"] == reserved
    assert (second["registration_number"], second["reserved"], second["inclusion_proof"]) == (
        free, False, None)
    assert none == {"key": unknown, "registration_number": None, "reserved": False,
                    "reserved_since": None, "inclusion_proof": None}
    assert by_iscc["registration_number"] == reserved and by_iscc["reserved"] is True

    with open(files.plain, "rb") as fh:
        by_file = client.post("/api/v1/reservations/check", data={"file": (fh, "x.jpg")},
                              content_type="multipart/form-data").get_json()["results"]
    assert [(r["key"], r["registration_number"], r["reserved"]) for r in by_file] == [
        (sha(files.plain), reserved, True)]

    too_many = client.post("/api/v1/reservations/check", json={"sha256": [unknown] * 1001})
    assert too_many.status_code == 400
    assert client.post("/api/v1/reservations/check",
                       json={"sha256": ["xyz"]}).status_code == 400
    assert client.post("/api/v1/reservations/check", json={"iscc": "ISCC:X"}).status_code == 400
    assert client.post("/api/v1/reservations/check", data={}).status_code == 400


def test_export_is_dated_signed_json(client, app, runner, files, two_works, tmp_path):
    reserved, _free = two_works
    out = tmp_path / "reservations.json"
    result = runner.invoke(args=["reservations", "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["count"] == 1 and document["generated_at"].endswith("Z")
    row = document["reservations"][0]
    assert row["registration_number"] == reserved and row["sha256"] == [sha(files.plain)]
    assert row["iscc"].startswith("ISCC:") and row["url"].endswith(f"/w/{reserved}")
    assert row["reserved_since"] and row["ledger_index"] == 0
    signature = document.pop("signature")
    key = parse_verifier_key(signature["vkey"])
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    Ed25519PublicKey.from_public_bytes(key.public_key).verify(
        base64.b64decode(signature["value"]), canonical_json(document))
    published = [k["vkey"] for k in client.get("/api/v1/ledger/keys").get_json()["keys"]]
    assert signature["vkey"] in published


def test_profile_setting_is_the_default_for_new_works(client, app, accounts, owner, files):
    accounts.login()
    page = client.get("/account/profile").get_data(as_text=True)
    assert 'name="ai_training_opt_out_default"' in page
    response = client.post("/account/profile", data={
        "display_name": "Aigerim", "country": "KZ", "locale": "en",
        "timezone": "Asia/Almaty"})  # the box unticked
    assert response.status_code == 302
    number = register_api(client, app, owner, files.plain)
    assert client.get(f"/api/v1/works/{number}").get_json()["ai_training_opt_out"] is False
    assert post_api(client, owner, files.plain).status_code == 409  # same file again
