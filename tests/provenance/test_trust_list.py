"""The C2PA trust list: what ships, how `flask provenance trust-list update FILE` installs
a list laid out like the official C2PA Trust List, and what that changes."""

from __future__ import annotations

from pathlib import Path

from registry.core.provenance import inspect_file
from registry.services import provenance
from tests.provenance.c2pa_files import make_test_ca, picture, sign_file
from tests.registration import register_api


def official_layout(*cas) -> str:
    """PEM blocks with a "Subject<TAB>…" line before each, as C2PA-TRUST-LIST.pem has."""
    return "".join(f"Subject\tCN={i} Test Root, O=Example, C=US\n{ca.ca_pem}\n"
                   for i, ca in enumerate(cas))


def test_the_shipped_list_holds_no_third_party_anchor_and_says_so(app, runner):
    text = provenance.SHIPPED_TRUST_LIST.read_text("utf-8")
    assert "BEGIN CERTIFICATE" not in text
    assert "trust-list update" in text and "C2PA-TRUST-LIST.pem" in text
    with app.app_context():
        settings = app.extensions["tamga.settings"]
        assert provenance.trust_list_source(settings) == provenance.SHIPPED_TRUST_LIST
        assert provenance.trust_anchors(settings) == []
        own = provenance.ca_summary(settings)
    shown = runner.invoke(args=["provenance", "trust-list", "show"])
    assert shown.exit_code == 0, shown.output
    assert "(shipped)" in shown.output and "0 third-party trust anchors" in shown.output
    assert own["fingerprint"] in shown.output  # Tamga's own CA is always trusted


def test_out_of_the_box_only_tamgas_own_ca_is_trusted(app, tmp_path, files):
    with app.app_context():
        settings = app.extensions["tamga.settings"]
        anchors = provenance.trust_anchors_pem(settings)
    assert anchors.count("BEGIN CERTIFICATE") == 1  # Tamga's CA, nothing else
    report = inspect_file(files.camera_signed, "image/jpeg", anchors)
    assert report.c2pa.state == "valid_untrusted"


def test_update_with_the_official_layout_makes_its_signers_trusted(
        client, app, owner, runner, tmp_path, test_ca):
    other = make_test_ca("Kazakh Broadcaster Root")
    listed = tmp_path / "C2PA-TRUST-LIST.pem"
    listed.write_text(official_layout(other, test_ca))
    result = runner.invoke(args=["provenance", "trust-list", "update", str(listed)])
    assert result.exit_code == 0, result.output
    assert "Installed 2 trust anchors" in result.output
    shown = runner.invoke(args=["provenance", "trust-list", "show"]).output
    assert "(installed)" in shown and "2 third-party trust anchors" in shown
    assert "Kazakh Broadcaster Root" in shown and "Steppe Camera Test CA" in shown

    signed = sign_file(picture(tmp_path, "cam.jpg", 31), tmp_path / "signed.jpg", "image/jpeg",
                       test_ca, source_type="digitalCapture")
    number = register_api(client, app, owner, signed, ai_use="none")
    found = client.get(f"/api/v1/works/{number}").get_json()["provenance"]["c2pa"]
    assert found["state"] == "trusted" and found["signer"] == "Tamga"


def test_update_replaces_the_list_and_a_bad_file_changes_nothing(app, runner, tmp_path,
                                                                   test_ca, files):
    first = tmp_path / "first.pem"
    first.write_text(official_layout(test_ca))
    assert runner.invoke(args=["provenance", "trust-list", "update", str(first)]).exit_code == 0
    with app.app_context():
        settings = app.extensions["tamga.settings"]
        assert inspect_file(files.camera_signed, "image/jpeg",
                            provenance.trust_anchors_pem(settings)).c2pa.state == "trusted"
        installed = provenance.trust_list_path(settings).read_text()

    for bad_text in ("no certificates here", "-----BEGIN CERTIFICATE-----\nnot base64\n"
                     "-----END CERTIFICATE-----\n"):
        bad = tmp_path / "bad.pem"
        bad.write_text(bad_text)
        refused = runner.invoke(args=["provenance", "trust-list", "update", str(bad)])
        assert refused.exit_code == 1 and "no PEM certificate" in refused.output
        with app.app_context():
            assert provenance.trust_list_path(settings).read_text() == installed

    second = tmp_path / "second.pem"
    second.write_text(official_layout(make_test_ca("Someone Else")))
    assert runner.invoke(args=["provenance", "trust-list", "update", str(second)]).exit_code == 0
    with app.app_context():
        # The test CA is no longer listed: its signatures are valid but the signer unknown.
        assert inspect_file(files.camera_signed, "image/jpeg",
                            provenance.trust_anchors_pem(settings)).c2pa.state \
            == "valid_untrusted"
        assert Path(provenance.trust_list_source(settings)).name == "trust-list.pem"
