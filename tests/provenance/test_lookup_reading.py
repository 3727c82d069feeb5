"""Provenance read at lookup: the query file's own Content Credentials and IPTC fields are
read before it is deleted and shown beside the matches (API and site)."""

from __future__ import annotations

from tests.provenance.c2pa_files import exiftool, picture


def api_lookup(client, path) -> dict:
    with open(path, "rb") as fh:
        response = client.post("/api/v1/lookup", data={"file": (fh, path.name)},
                               content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    assert "provenance;dur=" in response.headers["Server-Timing"]
    return response.get_json()


def test_api_lookup_reports_what_the_query_file_declares(client, files):
    checked = api_lookup(client, files.ai_signed)["checked"]
    assert checked["provenance"] == {
        "c2pa": {"state": "valid_untrusted", "claim_generator": "Midjourney 7",
                 "signer": "Tamga", "digital_source_type": "trainedAlgorithmicMedia"},
        "iptc": {"digital_source_type": None, "ai_system": None, "data_mining": None},
        "file_declares": "ai_generated"}
    plain = api_lookup(client, files.plain)["checked"]["provenance"]
    assert plain["c2pa"]["state"] == "none" and plain["file_declares"] is None
    by_hash = client.post("/api/v1/lookup", json={"sha256": "0" * 64}).get_json()
    assert by_hash["checked"]["provenance"] is None  # no file, nothing to read


def test_iptc_fields_of_the_query_file_are_read_too(client, tmp_path):
    path = exiftool(picture(tmp_path, "q.jpg", 51),
                    "-XMP-iptcExt:DigitalSourceType=http://cv.iptc.org/newscodes/"
                    "digitalsourcetype/digitalCapture")
    found = api_lookup(client, path)["checked"]["provenance"]
    assert found["iptc"]["digital_source_type"] == "digitalCapture"
    assert found["file_declares"] == "none"


def test_lookup_page_shows_what_the_file_declares_and_its_ai_label(client, files):
    with open(files.ai_signed, "rb") as fh:
        page = client.post("/lookup", data={"file": (fh, "q.jpg")},
                           content_type="multipart/form-data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert ("What your file declares: Content Credentials: created with Midjourney 7, "
            "digital source type: trainedAlgorithmicMedia, signed by Tamga "
            "(valid, signer unknown)") in html
    assert 'class="ai-label ai-label-ai_generated"' in html
    with open(files.plain, "rb") as fh:
        plain = client.post("/lookup", data={"file": (fh, "p.jpg")},
                            content_type="multipart/form-data").get_data(as_text=True)
    assert "What your file declares: Content Credentials: none" in plain
    assert "ai-label" not in plain


def test_my_works_list_carries_the_ai_label(client, app, owner, accounts, files):
    from tests.registration import register_api

    number = register_api(client, app, owner, files.ai_signed, ai_use="ai_generated",
                          human_contribution="Chose and cropped.")
    plain = register_api(client, app, owner, files.plain, ai_use="none")
    accounts.login("aigerim@example.kz")
    html = client.get("/works/").get_data(as_text=True)
    row = html[html.index(number):html.index("</tr>", html.index(number))]
    assert "ai-label-ai_generated" in row and "AI-generated" in row
    other = html[html.index(plain):html.index("</tr>", html.index(plain))]
    assert "ai-label" not in other


def test_hit_labels_follow_what_the_registry_believes(client, app, owner, files, tmp_path):
    """A tampered manifest's claim is not believed (no label); an IPTC field saying "AI
    composite" labels the work "made with AI assistance" in search and lookup hits alike."""
    from tests.provenance.c2pa_files import tamper
    from tests.registration import register_api

    tampered = tamper(files.ai_signed, tmp_path / "tampered.jpg")
    plain = register_api(client, app, owner, tampered, ai_use="none", title="Tampered steppe")
    composite = exiftool(picture(tmp_path, "c.jpg", 52),
                         "-XMP-iptcExt:DigitalSourceType=http://cv.iptc.org/newscodes/"
                         "digitalsourcetype/compositeWithTrainedAlgorithmicMedia")
    assisted = register_api(client, app, owner, composite, ai_use="none",
                            confirm_ai_declaration="true", title="Composite steppe")
    search = client.get("/search?q=steppe").get_data(as_text=True)
    for html, source in ((search, "search"),):
        first = html[html.index(plain):]
        first = first[:first.index("</article>")] if "</article>" in first else first
        assert "ai-label" not in first, source
    for path, number, label in ((tampered, plain, None), (composite, assisted, "ai_assisted")):
        with open(path, "rb") as fh:
            html = client.post("/lookup", data={"file": (fh, "q.jpg")},
                               content_type="multipart/form-data").get_data(as_text=True)
        card = html[html.index(f'<p class="muted mono">{number}</p>'):]
        card = card[:card.index("</article>")]
        if label:
            assert f'class="ai-label ai-label-{label}"' in card
        else:
            assert "ai-label" not in card
    assert client.get(f"/api/v1/works/{assisted}").get_json()["ai_label"] == "ai_assisted"
    assert client.get(f"/api/v1/works/{plain}").get_json()["ai_label"] is None
