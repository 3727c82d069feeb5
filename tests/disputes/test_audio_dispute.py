"""An audio dispute: a clip found online, aligned second by second, recomputed offline."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from registry.core.tamga_verify import verify_evidence_bundle
from registry.extensions import db
from registry.models import DisputeKind
from registry.services import disputes, evidence
from registry.web.utils import registry_settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "disputes"


def test_clip_found_online_is_aligned_and_recomputed(app, cast, media):
    number = cast.register("aigerim", media.song("song_a"), "Көктем", work_type="sound_recording",
                           **{"authors-0-role": "performer"})
    clip = media.clip("song_a", 12, 15)
    with app.app_context():
        opening = disputes.Opening(
            DisputeKind.EXTERNAL_COPY, disputed_file=disputes.Upload(
                io.BytesIO(clip.read_bytes()), clip.name),
            found_url="https://video.example/watch?v=1", found_platform="Video site")
        dispute = disputes.open_dispute(cast.user("aigerim"), cast.work(number), opening,
                                        cast.ctx())
        db.session.commit()
        cmp = dispute.comparison
        assert cmp["similarity"] > 0.6
        q0, q1, w0, w1 = cmp["audio"]["segments"][0]
        assert q0 < 2 and q1 > 13 and abs((w0 - q0) - 12) < 1.0  # clip second 0 = song second 12
        data = evidence.dispute_bundle(dispute, cast.user("aigerim"), "ru",
                                       registry_settings())
        vkeys = registry_settings().keyring.vkeys()
    checks = verify_evidence_bundle(data, vkeys, recompute=True)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    assert any(c.name == "audio similarity" for c in checks)
    assert any(c.name == f"fingerprint of {number}" for c in checks)
    zf = zipfile.ZipFile(io.BytesIO(data))
    prints = json.loads(zf.read("fingerprints.json"))
    assert prints["audio"]["query"]["registration_number"] is None
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "audio-report.pdf").write_bytes(zf.read("report.pdf"))
