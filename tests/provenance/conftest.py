"""Fixtures of the provenance tests: an owner with a token, signed and plain pictures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.provenance.c2pa_files import TestCA, make_test_ca, picture, sign_file


@pytest.fixture
def owner(make_account):
    """Aigerim, with an API token."""
    return make_account("aigerim@example.kz", "Aigerim")


@pytest.fixture(scope="session")
def test_ca() -> TestCA:
    return make_test_ca()


@dataclass(frozen=True)
class Files:
    plain: Path
    ai_signed: Path
    camera_signed: Path
    second_plain: Path


@pytest.fixture(scope="session")
def files(tmp_path_factory, test_ca) -> Files:
    folder = tmp_path_factory.mktemp("provenance-files")
    return Files(
        plain=picture(folder, "plain.jpg", 11),
        ai_signed=sign_file(picture(folder, "gen.jpg", 12), folder / "generated.jpg",
                            "image/jpeg", test_ca, source_type="trainedAlgorithmicMedia",
                            generator="Midjourney", version="7"),
        camera_signed=sign_file(picture(folder, "cam.jpg", 13), folder / "camera.jpg",
                                "image/jpeg", test_ca, source_type="digitalCapture"),
        second_plain=picture(folder, "plain2.jpg", 14),
    )
