"""Issue 12, item 1: a dispute against a private work must not leak it to the claimant.

The attack: Bolat registers a private picture; Aigerim (any logged-in creator)
opens a dispute against it and downloads ``/disputes/<id>/evidence.zip``. Before
the fix the report showed the private picture, Bolat's name, and
``fingerprints.json`` carried all the private work's hashes.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from PIL import Image, ImageStat
from pypdf import PdfReader

from registry.core.tamga_verify import verify_evidence_bundle
from registry.extensions import db
from registry.models import DisputeKind
from registry.services import disputes
from registry.web.utils import registry_settings

SECRET_TITLE = "Secret steppe sketch"


def _pdf_text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def _pictures(pdf: bytes) -> list[Image.Image]:
    return [img.image for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images]


def _is_plain(picture: Image.Image) -> bool:
    return max(ImageStat.Stat(picture.convert("L")).stddev) < 1.0


@pytest.fixture
def private_dispute(app, cast, media, tmp_path):
    """Aigerim's public picture; Bolat's private copy; Aigerim disputes Bolat's."""
    original = media.picture(7)
    copy = tmp_path / "copy.png"
    Image.open(original).save(copy, "PNG")
    mine = cast.register("aigerim", original, "Steppe at noon")
    theirs = cast.register("bolat", copy, SECRET_TITLE, visibility="private")
    with app.app_context():
        opening = disputes.Opening(DisputeKind.COPIES_REGISTRATION,
                                   disputes.Submission("Mine first."),
                                   claimant_work=cast.work(mine))
        dispute = disputes.open_dispute(cast.user("aigerim"), cast.work(theirs), opening,
                                        cast.ctx())
        db.session.commit()
        return dispute.id, mine, theirs


def _bundle(cast, who: str, dispute_id: int) -> dict[str, bytes]:
    cast.login(who)
    response = cast.accounts.client.get(f"/disputes/{dispute_id}/evidence.zip?lang=en")
    assert response.status_code == 200
    zf = zipfile.ZipFile(io.BytesIO(response.data))
    return {n: zf.read(n) for n in zf.namelist()} | {"__zip__": response.data}


def test_the_claimants_bundle_keeps_the_private_work_private(app, cast, private_dispute):
    dispute_id, mine, theirs = private_dispute
    members = _bundle(cast, "aigerim", dispute_id)
    assert f"certificates/{theirs}.pdf" not in members
    assert not any(n.startswith(f"originals/{theirs}") for n in members)
    text = _pdf_text(members["report.pdf"])
    assert "Bolat" not in text and SECRET_TITLE not in text
    assert theirs in text  # number, time and hashes stay
    pictures = _pictures(members["report.pdf"])
    assert pictures and sum(not _is_plain(p) for p in pictures) == 1  # only her own picture
    prints = json.loads(members["fingerprints.json"])
    sides = {s["registration_number"]: s for s in (prints["image"]["query"],
                                                   prints["image"]["work"])}
    assert sides[theirs] == {"registration_number": theirs, "label": "query",
                             "withheld": "private"}
    assert "hashes" in sides[mine] and prints["image"]["pair"]["distances"]
    with app.app_context():
        vkeys = registry_settings().keyring.vkeys()
    checks = verify_evidence_bundle(members["__zip__"], vkeys, recompute=True)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]


@pytest.mark.parametrize("who", ["moder", "bolat"])
def test_moderators_and_the_owner_see_everything(cast, private_dispute, who):
    dispute_id, _, theirs = private_dispute
    members = _bundle(cast, who, dispute_id)
    text = _pdf_text(members["report.pdf"])
    assert "Bolat" in text
    pictures = _pictures(members["report.pdf"])
    assert pictures and not any(_is_plain(p) for p in pictures)  # no placeholder
    prints = json.loads(members["fingerprints.json"])
    assert "variants" in prints["image"]["query"] or "hashes" in prints["image"]["query"]
    assert f"certificates/{theirs}.pdf" in members


def test_a_private_lookup_hit_hides_type_and_media(app, cast, media, client):
    """Item 12: the lookup API showed the work type and media of a private work."""
    picture = media.picture(11)
    number = cast.register("bolat", picture, SECRET_TITLE, visibility="private")
    cast.accounts.logout()
    response = client.post("/api/v1/lookup", data={"file": (io.BytesIO(picture.read_bytes()),
                                                            "q.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    hit = next(m for m in response.json["matches"] if m["registration_number"] == number)
    assert hit["work_type"] is None and hit["media"] is None and hit["title"] is None
