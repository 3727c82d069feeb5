"""Evidence bundles: contents, offline verification, tampering, the standalone verifier."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from registry.core import tamga_verify
from registry.core.tamga_verify import canonical_zip, verify_evidence_bundle
from registry.extensions import db
from registry.models import DisputeKind, Outcome
from registry.services import disputes, evidence
from registry.web.utils import registry_settings
from tests.disputes.conftest import T0

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "disputes"


def _decided_dispute(cast, first, second):
    opening = disputes.Opening(DisputeKind.COPIES_REGISTRATION,
                               disputes.Submission("My drafts are attached."),
                               claimant_work=cast.work(first))
    dispute = disputes.open_dispute(cast.user("aigerim"), cast.work(second), opening, cast.ctx())
    disputes.answer(cast.user("bolat"), dispute, disputes.Submission("Mine."), cast.ctx())
    disputes.decide(cast.user("moder"), dispute, Outcome.UPHELD,
                    "Aigerim's registration is earlier and identical.", cast.ctx())
    db.session.commit()
    return dispute


@pytest.fixture
def bundle(app, cast, two_pictures) -> tuple[bytes, list[str]]:
    with app.app_context():
        dispute = _decided_dispute(cast, *two_pictures)
        data = evidence.dispute_bundle(dispute, cast.user("aigerim"), "en",
                                       registry_settings())
        again = evidence.dispute_bundle(dispute, cast.user("aigerim"), "en",
                                        registry_settings())
        assert data == again  # deterministic when nothing changed
        return data, registry_settings().keyring.vkeys()


def _ok(checks) -> bool:
    return all(c.ok for c in checks)


def test_bundle_contents_and_verification(bundle, two_pictures):
    data, vkeys = bundle
    first, second = two_pictures
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names == sorted(names)
    assert {"README.txt", "manifest.json", "manifest.json.sig", "report.pdf",
            "fingerprints.json", "tamga_verify.py", f"certificates/{first}.pdf",
            f"certificates/{second}.pdf"} <= set(names)
    # Aigerim exports: her own original is in, Bolat's is not (he did not publish it).
    assert any(n.startswith(f"originals/{first}") for n in names)
    assert not any(n.startswith(f"originals/{second}") for n in names)
    members = {n: zipfile.ZipFile(io.BytesIO(data)).read(n) for n in names}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "image-report.pdf").write_bytes(members["report.pdf"])
    readme = members["README.txt"].decode()
    assert "ТАМҒА" in readme and "ТАМГА" in readme and "EVIDENCE BUNDLE" in readme
    manifest = json.loads(members["manifest.json"])
    kinds = [json.loads(__import__("base64").b64decode(e["entry"]))["kind"]
             for e in manifest["ledger"]["entries"]]
    assert kinds == ["work.registered", "work.registered", "dispute.opened",
                     "dispute.answered", "dispute.decided"]
    checks = verify_evidence_bundle(data, vkeys, recompute=True)
    assert _ok(checks), [c for c in checks if not c.ok]
    names_checked = {c.name for c in checks}
    assert {"manifest signature", "consistency", "image distances", "report.pdf signature",
            f"fingerprint of {first}", f"fingerprint of {second}"} <= names_checked


def test_one_changed_byte_in_any_member_fails(bundle):
    data, vkeys = bundle
    members = {n: zipfile.ZipFile(io.BytesIO(data)).read(n)
               for n in zipfile.ZipFile(io.BytesIO(data)).namelist()}
    for name, content in members.items():
        changed = bytearray(content)
        changed[len(changed) // 2] ^= 0x01
        forged = canonical_zip({**members, name: bytes(changed)})
        assert not _ok(verify_evidence_bundle(forged, vkeys, recompute=True)), name


def test_one_changed_byte_anywhere_in_the_zip_fails(bundle):
    data, vkeys = bundle
    for position in range(0, len(data), max(1, len(data) // 97)):
        changed = bytearray(data)
        changed[position] ^= 0x01
        assert not _ok(verify_evidence_bundle(bytes(changed), vkeys)), position


def test_forged_fingerprints_fail_only_the_recomputation(bundle):
    """A re-signed bundle with altered fingerprints: the distances no longer add up."""
    data, vkeys = bundle
    zf = zipfile.ZipFile(io.BytesIO(data))
    prints = json.loads(zf.read("fingerprints.json"))
    prints["image"]["pair"]["distances"]["phash"] += 7
    assert not _ok(tamga_verify.recompute_checks(
        json.loads(zf.read("manifest.json")),
        {"fingerprints.json": json.dumps(prints).encode()}))


def test_the_standalone_verifier_alone_checks_a_bundle(bundle, tmp_path):
    data, vkeys = bundle
    shutil.copy(tamga_verify.__file__, tmp_path / "tamga_verify.py")
    (tmp_path / "bundle.zip").write_bytes(data)
    (tmp_path / "keys.txt").write_text("\n".join(vkeys) + "\n")
    from tests.core.test_tamga_verify_standalone import RUNNER

    run = subprocess.run([sys.executable, "-c", RUNNER, "bundle.zip", "--recompute", "--key",
                          "keys.txt"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "RESULT: all checks passed" in run.stdout
    broken = bytearray(data)
    broken[len(broken) // 3] ^= 0x20
    (tmp_path / "bundle.zip").write_bytes(bytes(broken))
    run = subprocess.run([sys.executable, "-c", RUNNER, "bundle.zip", "--key", "keys.txt"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 1


def test_work_bundle_through_the_api(app, client, cast, two_pictures):
    first, _ = two_pictures
    cast.accounts.logout()
    response = client.get(f"/api/v1/works/{first}/evidence.zip")
    assert response.status_code == 200
    with app.app_context():
        vkeys = registry_settings().keyring.vkeys()
    checks = verify_evidence_bundle(response.data, vkeys, recompute=True)
    assert _ok(checks), [c for c in checks if not c.ok]
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert not any(n.startswith("originals/") for n in names)  # not published, not the owner


def test_cli_export_and_tick(app, runner, cast, two_pictures, tmp_path):
    with app.app_context():
        dispute = _decided_dispute(cast, *two_pictures)
        dispute_id, vkeys = dispute.id, registry_settings().keyring.vkeys()
    out = tmp_path / "d.zip"
    result = runner.invoke(args=["evidence", "export", "--dispute", str(dispute_id), "-o",
                                 str(out)])
    assert result.exit_code == 0, result.output
    assert _ok(verify_evidence_bundle(out.read_bytes(), vkeys, recompute=True))
    result = runner.invoke(args=["disputes", "tick"])
    assert result.exit_code == 0 and "deadlines applied: 0" in result.output
    assert T0.year == 2026
