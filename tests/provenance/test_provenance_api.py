"""Provenance through the API and the site: the mismatch check, trust list, credentialed copies."""

from __future__ import annotations

import io
import json

import c2pa
from pypdf import PdfReader
from sqlalchemy import func, select

from registry.core.provenance import read_embedded
from tests.registration import post_api, post_form, register_api, run_jobs

PROVENANCE_KEYS = {"c2pa", "iptc", "ai_declaration_mismatch"}


def ledger_entry(client, index: int) -> dict:
    entries = client.get(f"/api/v1/ledger/entries?start={index}&end={index + 1}").get_json()
    return entries["entries"][0]["entry"]


def test_mismatch_is_refused_until_confirmed_then_queued_for_moderators(
        client, app, owner, files, accounts):
    from registry.extensions import db
    from registry.models import Work

    refused = post_api(client, owner, files.ai_signed, ai_use="none")
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "ai_declaration_mismatch"
    assert "AI-generated" in refused.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Work.id))) == 0

    number = register_api(client, app, owner, files.ai_signed, ai_use="none",
                          confirm_ai_declaration="true")
    record = client.get(f"/api/v1/works/{number}").get_json()
    assert set(record["provenance"]) == PROVENANCE_KEYS
    assert record["provenance"] == {
        "c2pa": {"state": "valid_untrusted", "claim_generator": "Midjourney 7",
                 "signer": "Tamga", "digital_source_type": "trainedAlgorithmicMedia"},
        "iptc": {"digital_source_type": None, "ai_system": None, "data_mining": None},
        "ai_declaration_mismatch": True,
    }
    assert record["ai_label"] == "ai_generated"  # detected, though declared "none"
    entry = ledger_entry(client, 0)
    assert entry["file_provenance"] == {
        "c2pa": "valid_untrusted", "file_digital_source_type": "trainedAlgorithmicMedia",
        "file_declares": "ai_generated", "ai_declaration_mismatch": True}
    assert entry["ai_declaration"]["use"] == "none"

    accounts.create("moderator@example.kz", name="Moderator", role="moderator")
    accounts.login("moderator@example.kz")
    queue = client.get("/moderation/").get_data(as_text=True)
    assert number in queue and "No AI was used" in queue and "trainedAlgorithmicMedia" in queue
    assert client.post(f"/moderation/ai-declarations/{number}/reviewed").status_code == 302
    assert number not in client.get("/moderation/").get_data(as_text=True)
    with app.app_context():  # a moderator's action lands in the audit trail
        from registry.extensions import db
        from registry.models.user import AuditEvent

        event = db.session.scalar(db.select(AuditEvent).filter_by(
            action="ai_declaration_reviewed"))
        assert event.target == number and event.actor.email == "moderator@example.kz"


def test_trust_list_update_makes_a_known_signer_trusted(client, app, owner, files, test_ca,
                                                        runner, tmp_path):
    bad = tmp_path / "not-pem.txt"
    bad.write_text("hello")
    assert runner.invoke(args=["provenance", "trust-list", "update", str(bad)]).exit_code == 1
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(test_ca.ca_pem)
    result = runner.invoke(args=["provenance", "trust-list", "update", str(anchors)])
    assert result.exit_code == 0, result.output
    assert "Installed 1 trust anchors" in result.output

    number = register_api(client, app, owner, files.camera_signed, ai_use="none")
    c2pa_found = client.get(f"/api/v1/works/{number}").get_json()["provenance"]["c2pa"]
    assert c2pa_found["state"] == "trusted"
    assert c2pa_found["digital_source_type"] == "digitalCapture"

    # `flask keys rotate` issues a new signing certificate under the same published CA.
    from registry.core import c2pa_signing

    keys_dir = app.extensions["tamga.settings"].keys_dir
    before = c2pa_signing.ensure_identity(keys_dir)
    ca_before = client.get("/api/v1/provenance/ca.pem").data
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0 and "Content Credentials signing certificate" in rotated.output
    after = c2pa_signing.ensure_identity(keys_dir)
    assert after.certificate.serial_number != before.certificate.serial_number
    assert client.get("/api/v1/provenance/ca.pem").data == ca_before == after.ca_pem


def test_site_flags_the_mismatch_before_the_work_is_submitted(client, app, accounts, files):

    app.config["TAMGA_WORKER"] = "sync"
    accounts.create()
    accounts.login()
    page = post_form(client, files.ai_signed, ai_use="none")
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "The file and your AI declaration disagree." in html
    assert 'name="confirm_ai_declaration"' in html
    confirmed = post_form(client, files.ai_signed, ai_use="none", confirm_ai_declaration="y")
    assert confirmed.status_code == 302
    number = confirmed.headers["Location"].rsplit("/", 1)[-1]
    detail = client.get(f"/works/{number}").get_data(as_text=True)
    assert "Content Credentials" in detail and "Midjourney 7" in detail
    assert 'class="ai-label ai-label-ai_generated"' in detail


def test_credentialed_copy_reads_back_valid_and_chained_to_tamga(client, app, owner, files):
    number = register_api(client, app, owner, files.plain, ai_use="ai_generated",
                          ai_tools="Kandinsky 3.1", human_contribution="Selection and edits.")
    anonymous = client.get(f"/api/v1/works/{number}/credentialed")
    assert anonymous.status_code == 404  # the owner does not publish the original
    response = client.get(f"/api/v1/works/{number}/credentialed", headers=owner.headers)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    ca_pem = client.get("/api/v1/provenance/ca.pem").get_data(as_text=True)
    assert ca_pem.startswith("-----BEGIN CERTIFICATE-----")

    context = c2pa.Context.from_dict({
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": True},
        "trust": {"trust_anchors": ca_pem}})
    with c2pa.Reader("image/jpeg", io.BytesIO(response.data), None, context) as reader:
        assert reader.get_validation_state() == "Trusted"
        manifest = reader.get_active_manifest()
    assertions = {a["label"]: a["data"] for a in manifest["assertions"]}
    registration = assertions["kz.tamga.registration"]
    record = client.get(f"/api/v1/works/{number}").get_json()
    assert registration["registration_number"] == number
    assert registration["sha256"] == record["sha256"]
    assert registration["url"] == record["url"]
    assert registration["ledger_index"] == 0 and registration["registered_at"]
    actions = next(v for k, v in assertions.items() if k.startswith("c2pa.actions"))["actions"]
    assert any(a.get("digitalSourceType", "").endswith("/trainedAlgorithmicMedia")
               for a in actions)
    mining = assertions["cawg.training-mining"]["entries"]
    assert mining["cawg.ai_training"]["use"] == "notAllowed"
    assert manifest["signature_info"]["issuer"] == "Tamga"

    copy = app.instance_path + "/copy.jpg"
    with open(copy, "wb") as fh:
        fh.write(response.data)
    from pathlib import Path

    xmp = read_embedded(Path(copy), "image/jpeg")  # IPTC written before signing
    assert xmp.digital_source_type == "trainedAlgorithmicMedia"
    assert xmp.data_mining == "DMI-PROHIBITED-AIMLTRAINING"

    pdf = client.get(f"/w/{number}/certificate.pdf?lang=en")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "AI-GENERATED" in text and "C2PA" in text and f"{number}/credentialed" in text
    verify = client.get("/verify").get_data(as_text=True)
    assert "/api/v1/provenance/ca.pem" in verify and "Content Credentials" in verify


def test_lookup_matches_carry_provenance_and_private_works_keep_it(client, app, owner, files):
    public = register_api(client, app, owner, files.camera_signed, ai_use="none")
    with open(files.camera_signed, "rb") as fh:
        found = client.post("/api/v1/lookup", data={"file": (fh, "q.jpg")},
                            content_type="multipart/form-data").get_json()
    match = next(m for m in found["matches"] if m["registration_number"] == public)
    assert match["provenance"]["c2pa"]["digital_source_type"] == "digitalCapture"
    assert match["provenance"]["ai_declaration_mismatch"] is False

    private = register_api(client, app, owner, files.second_plain, visibility="private")
    body = client.post("/api/v1/lookup", json={"sha256": _sha(files.second_plain)}).get_json()
    assert [m["provenance"] for m in body["matches"]
            if m["registration_number"] == private] == [None]
    assert client.get(f"/api/v1/works/{private}").get_json()["provenance"] is None
    owner_view = client.get(f"/api/v1/works/{private}", headers=owner.headers).get_json()
    assert owner_view["provenance"]["c2pa"]["state"] == "none"


def _sha(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_api_sets_the_training_reservation_with_the_profile_as_default(client, app, owner,
                                                                       files):
    from registry.extensions import db
    from registry.models.user import User

    reserved = register_api(client, app, owner, files.plain)
    assert client.get(f"/api/v1/works/{reserved}").get_json()["ai_training_opt_out"] is True
    with app.app_context():
        db.session.get(User, owner.user_id).ai_training_opt_out_default = False
        db.session.commit()
    by_default = register_api(client, app, owner, files.second_plain)
    assert client.get(f"/api/v1/works/{by_default}").get_json()["ai_training_opt_out"] is False
    explicit = register_api(client, app, owner, files.camera_signed, ai_training_opt_out="true")
    assert client.get(f"/api/v1/works/{explicit}").get_json()["ai_training_opt_out"] is True
    bad = post_api(client, owner, files.ai_signed, ai_training_opt_out="maybe",
                   ai_use="ai_generated")
    assert bad.status_code == 422
    run_jobs(app)


def test_openapi_documents_the_new_endpoints(client):
    spec = json.loads(client.get("/api/v1/openapi.json").data)
    for path in ("/works/{registration_number}/credentialed", "/provenance/ca.pem",
                 "/reservations/check"):
        assert path in spec["paths"], path
    submission = spec["components"]["schemas"]["WorkSubmission"]["properties"]
    assert {"ai_training_opt_out", "confirm_ai_declaration"} <= set(submission)
    provenance = spec["components"]["schemas"]["Provenance"]["properties"]
    assert set(provenance) == PROVENANCE_KEYS
    assert provenance["c2pa"]["properties"]["state"]["enum"] == [
        "trusted", "valid_untrusted", "invalid", "none"]


def test_certificate_labels_ai_in_kazakh_and_russian_declared_or_detected(client, app, owner,
                                                                         files):
    declared = register_api(client, app, owner, files.plain, ai_use="ai_generated",
                            human_contribution="Chose the seed.")
    detected = register_api(client, app, owner, files.ai_signed, ai_use="none",
                            confirm_ai_declaration="true")
    camera = register_api(client, app, owner, files.camera_signed, ai_use="none")
    for number, labelled in ((declared, True), (detected, True), (camera, False)):
        pdf = client.get(f"/w/{number}/certificate.pdf")  # the default: Kazakh and Russian
        assert pdf.status_code == 200
        text = " ".join(" ".join(p.extract_text().split())
                        for p in PdfReader(io.BytesIO(pdf.data)).pages)
        assert ("ЖАСАНДЫ ИНТЕЛЛЕКТ ЖАСАҒАН" in text) is labelled, number
        assert ("СОЗДАНО ИСКУССТВЕННЫМ ИНТЕЛЛЕКТОМ" in text) is labelled, number


def test_a_format_that_cannot_carry_credentials_is_said_so(client, app, owner, accounts,
                                                           tmp_path):
    from tests.provenance.c2pa_files import ffmpeg

    song = tmp_path / "song.ogg"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:duration=8", "-c:a", "libvorbis",
           str(song))
    number = register_api(client, app, owner, song, work_type="sound_recording")
    refused = client.get(f"/api/v1/works/{number}/credentialed", headers=owner.headers)
    assert refused.status_code == 415
    assert refused.get_json()["error"]["message"] == (
        "Content Credentials cannot be written into this file's format.")
    accounts.login("aigerim@example.kz")
    page = client.get(f"/works/{number}").get_data(as_text=True)
    assert 'id="credentialed-unavailable"' in page and "audio/ogg" in page
    assert 'id="credentialed-download"' not in page
    pdf = client.get(f"/w/{number}/certificate.pdf?lang=en")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert f"{number}/credentialed" not in text
