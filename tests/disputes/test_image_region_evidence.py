"""Issue #17: the registration conflict check and the evidence report use local
features: a later registration that shows an earlier picture as one cropped tile
of a collage is a conflict, the match says where and what was done, and the
report draws the box."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

from PIL import Image, ImageOps

from registry.extensions import db
from registry.models import DisputeKind, Outcome
from registry.services import disputes, evidence
from registry.web.utils import registry_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "images"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "disputes"


def test_collage_tile_conflict_and_report_box(app, cast, tmp_path):
    source = Image.open(FIXTURES / "features_source.jpg").convert("RGB")
    other = Image.open(FIXTURES / "features_other.jpg").convert("RGB")
    canvas = Image.new("RGB", (1212, 912), (245, 245, 245))
    canvas.paste(ImageOps.fit(other, (600, 450)), (0, 462))
    canvas.paste(ImageOps.fit(ImageOps.mirror(other), (600, 450)), (612, 462))
    canvas.paste(source.crop((100, 75, 700, 525)), (0, 0))
    collage = tmp_path / "collage.jpg"
    canvas.save(collage, quality=88)
    first = cast.register("aigerim", FIXTURES / "features_source.jpg", "Тау бейнесі")
    second = cast.register("bolat", collage, "Коллаж")
    with app.app_context():
        later = cast.work(second)
        [match] = [m for m in later.matches if m.other_work.registration_number == first]
        assert match.is_conflict and match.kind == "image"
        assert match.details["transformation"] == "cropped"
        assert match.details["stage"] in ("features", "both")
        region = match.details["region"]
        assert region["x"] < 0.05 and region["y"] < 0.05
        assert abs(region["w"] - 0.5) < 0.08 and abs(region["h"] - 0.5) < 0.1
        crop = match.details["transform"]["crop"]
        # the right edge is 100 px from the picture's: within the snapping distance
        assert abs(crop["x"] - 0.125) < 0.06 and 0.7 < crop["w"] < 0.9

        opening = disputes.Opening(DisputeKind.COPIES_REGISTRATION,
                                   disputes.Submission("It is my mountain picture."),
                                   claimant_work=cast.work(first))
        dispute = disputes.open_dispute(cast.user("aigerim"), later, opening, cast.ctx())
        disputes.answer(cast.user("bolat"), dispute, disputes.Submission("A collage."), cast.ctx())
        disputes.decide(cast.user("moder"), dispute, Outcome.UPHELD, "A crop of it.", cast.ctx())
        db.session.commit()
        image = dispute.comparison["image"]
        assert image["transformation"] == "cropped" and image["inliers"] >= 14
        assert set(image["region"]) == {"x", "y", "w", "h"}
        data = evidence.dispute_bundle(dispute, cast.user("aigerim"), "en", registry_settings())
    report = zipfile.ZipFile(io.BytesIO(data)).read("report.pdf")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / "image-collage-report.pdf"
    pdf.write_bytes(report)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                    str(ARTIFACTS / "image-collage-report")], check=True)
    page = next(ARTIFACTS.glob("image-collage-report*.png"))
    import numpy as np

    px = np.asarray(Image.open(page).convert("RGB")).astype(int)
    red = int(((px[..., 0] > 190) & (px[..., 1] < 70) & (px[..., 2] < 80)).sum())
    assert red > 100  # the box is drawn on the pictures
