"""``flask works import``: a folder with a CSV, a bad file, re-runs and another owner."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

CSV = (
    "filename,title,work_type,created_on,authors,ai_use,description,visibility\n"
    "song_a.mp3,Dombra at dawn,musical_work,2025,"
    "Айгерім Сәрсенова:composer:60;Dana Ospan:lyricist:40,none,First song,public\n"
) + """picture.png,Steppe blobs,artwork,2024-05-01,,,,private
bad_shares.mp3,Bad shares,sound_recording,,A:performer:50;B:performer:40,,,
ghost.mp3,Not in the folder,,,,,,
"""


def make_folder(root: Path, media) -> tuple[Path, Path]:
    folder = root / "batch"
    folder.mkdir()
    shutil.copy(media.mono_song("song_a", "64k"), folder / "song_a.mp3")
    shutil.copy(media.mono_song("song_b", "64k"), folder / "02_evening-song.mp3")
    # The CSV gives this one shares of 90 %.
    shutil.copy(media.mono_song("song_b", "64k"), folder / "bad_shares.mp3")
    shutil.copy(media.painting(7), folder / "picture.png")
    (folder / "readme.txt").write_text("These are my songs.\n" * 20)
    (folder / "empty.mp3").write_bytes(b"")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    csv_path = folder / "metadata.csv"  # inside the folder: must not be imported itself
    csv_path.write_text(CSV, encoding="utf-8")
    return folder, csv_path


def works_of(app, email: str):
    from registry.extensions import db
    from registry.models.user import User
    from registry.models.work import Work

    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == email))
        works = db.session.scalars(select(Work).where(Work.owner_id == owner.id)
                                   .order_by(Work.id)).all()
        return [(w.title, w.work_type.value, w.status.value, w.visibility.value,
                 [(a.full_name, a.role, float(a.share)) for a in w.authors], w.iscc is not None,
                 w.creation_year, w.description) for w in works]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_import_folder_with_csv_then_rerun_and_other_owner(app, runner, accounts, media,
                                                           tmp_path, workers):
    accounts.create("aigerim@example.kz", name="Aigerim")
    accounts.create("copier@example.kz", name="Copier")
    folder, csv_path = make_folder(tmp_path, media)

    result = runner.invoke(args=["works", "import", str(folder), "--owner",
                                 "aigerim@example.kz", "--metadata", str(csv_path),
                                 "--workers", workers])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "6 files in" in out
    assert "    3 registered" in out and "    0 skipped" in out and "    3 rejected" in out
    assert "rejected  readme.txt: Unsupported file type" in out
    assert "rejected  empty.mp3: The file is empty." in out
    assert "rejected  bad_shares.mp3: The authors' shares must add up to 100%" in out
    assert "not found ghost.mp3" in out

    works = works_of(app, "aigerim@example.kz")
    by_title = {w[0]: w for w in works}
    assert set(by_title) == {"Dombra at dawn", "02 evening song", "Steppe blobs"}
    song = by_title["Dombra at dawn"]
    assert song[1:4] == ("musical_work", "registered", "public")
    assert song[4] == [("Айгерім Сәрсенова", "composer", 60.0), ("Dana Ospan", "lyricist", 40.0)]
    assert song[5] and song[6] == 2025 and song[7] == "First song"
    guessed = by_title["02 evening song"]
    assert guessed[1:3] == ("sound_recording", "registered")
    assert guessed[4] == [("Aigerim", "performer", 100.0)]
    assert by_title["Steppe blobs"][1:4] == ("artwork", "registered", "private")

    again = runner.invoke(args=["works", "import", str(folder), "--owner",
                                "aigerim@example.kz", "--metadata", str(csv_path),
                                "--workers", "1"])
    assert again.exit_code == 0, again.output
    assert "    0 registered" in again.output and "    3 skipped" in again.output
    assert len(works_of(app, "aigerim@example.kz")) == 3

    copier = runner.invoke(args=["works", "import", str(folder), "--owner", "copier@example.kz",
                                 "--workers", workers])
    assert copier.exit_code == 0, copier.output
    # Every file is an earlier work of Aigerim's; bad_shares.mp3 repeats 02_evening-song.mp3,
    # which the copier registered a moment before: their own duplicate, skipped.
    assert "    3 conflicts" in copier.output and "    0 registered" in copier.output
    assert "skipped   bad_shares.mp3: You have already registered this file" in copier.output
    first_song = re.search(r"conflict  song_a.mp3: KZ-\d{4}-\d{6} matches earlier "
                           r"KZ-\d{4}-(\d{6}) \(exact, score 1.00\)", copier.output)
    assert first_song and first_song.group(1) == "000003", copier.output  # 3rd by name
    # without --metadata the CSV is just another file in the folder
    assert "rejected  metadata.csv: Unsupported file type" in copier.output
    statuses = [w[2] for w in works_of(app, "copier@example.kz")]
    assert statuses == ["conflict", "conflict", "conflict"]


def test_unknown_owner_and_bad_csv_fail_cleanly(runner, accounts, tmp_path):
    accounts.create("aigerim@example.kz")
    nobody = runner.invoke(args=["works", "import", str(tmp_path), "--owner", "x@example.kz"])
    assert nobody.exit_code != 0 and "No account" in nobody.output
    bad_csv = tmp_path / "meta.csv"
    bad_csv.write_text("name,title\nx.mp3,X\n")
    result = runner.invoke(args=["works", "import", str(tmp_path), "--owner",
                                 "aigerim@example.kz", "--metadata", str(bad_csv)])
    assert result.exit_code != 0 and "filename" in result.output


def test_authors_cell_parsing():
    from decimal import Decimal

    from registry.core.errors import ValidationFailed
    from registry.services.bulk_import import parse_authors_cell, title_from_filename

    assert parse_authors_cell("", "performer") is None
    [one] = parse_authors_cell("Aigerim S", "performer")
    assert (one.full_name, one.role, one.share) == ("Aigerim S", "performer", Decimal("100.00"))
    two = parse_authors_cell("A:composer:50.5; B::49,5", "performer")
    assert [(a.role, a.share) for a in two] == [("composer", Decimal("50.50")),
                                                ("performer", Decimal("49.50"))]
    with pytest.raises(ValidationFailed):
        parse_authors_cell("A:composer;B:lyricist", "composer")
    assert title_from_filename(Path("01_dombra-at--dawn.mp3")) == "01 dombra at dawn"
