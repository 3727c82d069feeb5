"""A video dispute: a vertical re-upload registered by another account becomes a conflict;
the case's report shows matched frames side by side; the bundle verifies offline."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from registry.core import tamga_verify
from registry.core.tamga_verify import verify_evidence_bundle
from registry.extensions import db
from registry.services import disputes, evidence
from registry.web.utils import registry_settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "disputes"


def test_vertical_reupload_dispute_report_and_offline_verification(app, cast, media,
                                                                   tmp_path):
    film = media.video("film")
    first = cast.register("aigerim", film, "Дала", work_type="audiovisual",
                          **{"authors-0-role": "director"})
    short = media.video_clip(film, 6, 10, "dispute-short", vf="crop=ih*9/16:ih,scale=360:640")
    second = cast.register("bolat", short, "Short", work_type="audiovisual",
                           **{"authors-0-role": "director"})
    with app.app_context():
        work = cast.work(second)
        assert work.status.value == "conflict" and work.matches[0].kind == "video"
        case = disputes.open_conflict_case(cast.user("moder"), work, cast.ctx())
        db.session.commit()
        cmp = case.comparison
        assert cmp["media"] == "video" and cmp["similarity"] > 0.4
        q0, q1, w0, w1 = cmp["video"]["segment"]
        assert abs(w0 - q0 - 6) <= 1.0
        assert len(cmp["video"]["stills"]) >= 2  # matched frames, side by side in the report
        assert cmp["audio"]["segments"]  # the soundtrack aligned too
        data = evidence.dispute_bundle(case, cast.user("moder"), "kk+ru", registry_settings())
        vkeys = registry_settings().keyring.vkeys()
    checks = verify_evidence_bundle(data, vkeys, recompute=True)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    names = {c.name for c in checks}
    assert {"video frame distances", f"fingerprint of {first}",
            f"fingerprint of {second}"} <= names
    zf = zipfile.ZipFile(io.BytesIO(data))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "video-report.pdf").write_bytes(zf.read("report.pdf"))
    prints = json.loads(zf.read("fingerprints.json"))
    prints["video"]["pairs"][0][2] += 5  # a forged distance fails the recomputation
    forged = tamga_verify.recompute_checks(json.loads(zf.read("manifest.json")),
                                           {"fingerprints.json": json.dumps(prints).encode()})
    assert not all(c.ok for c in forged)
    # the verifier alone, as a court expert would run it
    shutil.copy(tamga_verify.__file__, tmp_path / "tamga_verify.py")
    (tmp_path / "bundle.zip").write_bytes(data)
    (tmp_path / "keys.txt").write_text("\n".join(vkeys) + "\n")
    from tests.core.test_tamga_verify_standalone import RUNNER

    run = subprocess.run([sys.executable, "-c", RUNNER, "bundle.zip", "--recompute", "--key",
                          "keys.txt"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "video frame distances" in run.stdout


def test_work_bundle_of_a_video_verifies(app, cast, media):
    number = cast.register("aigerim", media.video("film"), "Дала", work_type="audiovisual",
                           **{"authors-0-role": "director"})
    with app.app_context():
        data = evidence.work_bundle(cast.work(number), cast.user("aigerim"), "kk+ru",
                                    registry_settings())
        vkeys = registry_settings().keyring.vkeys()
    checks = verify_evidence_bundle(data, vkeys, recompute=True)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    assert f"fingerprint of {number}" in {c.name for c in checks}
