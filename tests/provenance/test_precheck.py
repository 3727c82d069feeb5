"""The registration form's pre-check: `POST /works/new/provenance` reads what a chosen file
says about AI before the form is sent, stores nothing, and says which declarations
contradict it. The check at submit stays the one that decides."""

from __future__ import annotations

from sqlalchemy import func, select


def precheck(client, path, **kwargs):
    with open(path, "rb") as fh:
        return client.post("/works/new/provenance", data={"file": (fh, path.name)},
                           content_type="multipart/form-data", **kwargs)


def test_ai_generated_file_contradicts_only_the_no_ai_declaration(client, app, accounts,
                                                                   files):
    from registry.extensions import db
    from registry.models import Work

    accounts.create()
    accounts.login()
    uploads = app.extensions["tamga.settings"].upload_dir
    before = set(uploads.iterdir()) if uploads.exists() else set()
    response = precheck(client, files.ai_signed)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["file_declares"] == "ai_generated"
    assert answer["mismatch"]["ai_generated"] is None
    assert answer["mismatch"]["ai_assisted"] is None
    assert "AI-generated" in answer["mismatch"]["none"]
    assert "no AI used" in answer["mismatch"]["none"]
    assert answer["summary"] == ("Content Credentials: created with Midjourney 7, digital source "
                                 "type: trainedAlgorithmicMedia, signed by Tamga "
                                 "(valid, signer unknown)")
    assert answer["provenance"]["c2pa"]["state"] == "valid_untrusted"
    with app.app_context():
        assert db.session.scalar(select(func.count(Work.id))) == 0  # nothing registered
    assert (set(uploads.iterdir()) if uploads.exists() else set()) == before  # nor kept


def test_camera_file_contradicts_the_ai_generated_declaration_in_the_users_language(
        client, accounts, files):
    accounts.create()
    accounts.login()
    answer = precheck(client, files.camera_signed).get_json()
    assert answer["file_declares"] == "none"
    assert answer["mismatch"]["none"] is None and answer["mismatch"]["ai_assisted"] is None
    assert answer["mismatch"]["ai_generated"]
    russian = precheck(client, files.camera_signed,
                       headers={"Accept-Language": "ru"}).get_json()
    assert "создано в Steppe Camera 3.1" in russian["summary"]
    assert russian["mismatch"]["ai_generated"] != answer["mismatch"]["ai_generated"]


def test_silent_file_contradicts_nothing(client, accounts, files):
    accounts.create()
    accounts.login()
    answer = precheck(client, files.plain).get_json()
    assert answer["file_declares"] is None
    assert answer["mismatch"] == {"none": None, "ai_assisted": None, "ai_generated": None}
    assert answer["summary"] == "Content Credentials: none"


def test_bad_requests_get_clear_json_errors(client, accounts, tmp_path):
    accounts.create()
    accounts.login()
    missing = client.post("/works/new/provenance", data={},
                          content_type="multipart/form-data")
    assert missing.status_code == 400 and missing.get_json()["error"]["code"] == "no_file"
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    refused = precheck(client, text)
    assert refused.status_code == 415
    assert refused.get_json()["error"]["message"]


def test_only_logged_in_creators_and_rate_limited(client, app, accounts, files):
    anonymous = precheck(client, files.plain)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    app.config["TAMGA_LOOKUP_LIMIT_USER"] = "2 per minute"
    accounts.create()
    accounts.login()
    assert [precheck(client, files.plain).status_code for _ in range(3)] == [200, 200, 429]


def test_the_form_carries_the_precheck_and_a_hidden_confirmation(client, accounts):
    accounts.create()
    accounts.login()
    html = client.get("/works/new").get_data(as_text=True)
    assert 'data-precheck-url="/works/new/provenance"' in html
    assert 'id="ai-mismatch"' in html and 'name="confirm_ai_declaration"' in html
    block = html[html.index('id="ai-mismatch"') - 80:html.index('id="ai-mismatch"') + 200]
    assert "hidden" in block


def test_files_over_the_precheck_limit_are_refused_and_the_form_knows_it(
        client, accounts, files, monkeypatch):
    from registry.services import provenance

    monkeypatch.setattr(provenance, "PRECHECK_MAX_BYTES", 4096)
    accounts.create()
    accounts.login()
    assert 'data-precheck-max="4096"' in client.get("/works/new").get_data(as_text=True)
    refused = precheck(client, files.plain)  # ~200 kB
    assert refused.status_code == 413 and refused.get_json()["error"]["message"]
