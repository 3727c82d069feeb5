"""Batch upload in the browser (issue 20): several files and a folder, titles adjusted
in the table, one upload; each file gets its own number, a bad file its own error,
and the results page follows every file's processing until it is registered."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image
from playwright.sync_api import expect

from registry.extensions import db
from registry.models import Work
from registry.services import accounts
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


@pytest.fixture
def worker_app(live_app):
    from registry.tasks import start_thread_worker

    live_app.config["TAMGA_WORKER"] = "thread"
    with live_app.app_context():
        user = accounts.register_account("zhanna@example.kz", "a long enough secret", "Zhanna")
        user.legal_name_cyrillic = "Жанна Әлиева"
        accounts.confirm_email_now(user)
        db.session.commit()
    worker = start_thread_worker(live_app)
    yield live_app
    worker.stop()


def test_a_photo_set_and_a_folder_registered_in_one_batch(page, live_server, worker_app, media,
                                                          tmp_path):
    page.context.add_cookies([{"name": "lang", "value": "ru", "url": live_server}])
    page.goto(f"{live_server}/login")
    page.locator("#email").fill("zhanna@example.kz")
    page.locator("#password").fill("a long enough secret")
    page.locator("main form [type=submit]").first.click()
    page.wait_for_url(f"{live_server}/")

    chosen = []
    for seed, name in ((301, "almaty_01.jpg"), (302, "almaty-02.jpg")):
        path = tmp_path / name
        shutil.copy(media.picture(seed), path)
        chosen.append(str(path))
    junk = tmp_path / "notes.txt"
    junk.write_text("not a picture")
    chosen.append(str(junk))
    folder = tmp_path / "steppe"
    folder.mkdir()
    shutil.copy(media.picture(303), folder / "steppe_a.jpg")
    Image.open(media.picture(304)).save(folder / "steppe_b.png", "PNG")

    page.goto(f"{live_server}/works/batch")
    page.locator("#work_type").select_option("photograph")
    assert page.locator("#authors-0-role").input_value() == "photographer"
    assert page.locator("#authors-0-full_name").input_value() == "Жанна Әлиева"
    page.locator("#creation").fill("2025")
    page.locator("#files").set_input_files(chosen)
    page.locator("#folder").set_input_files(str(folder))
    titles = page.locator(".batch-files input[name=titles]")
    assert titles.count() == 5
    assert titles.nth(1).input_value() == "almaty 02"
    assert page.locator(".batch-files tbody tr").nth(0).inner_text().count("КБ") == 1
    titles.nth(0).fill("Алматы түнде")
    assert "5" in page.locator(".batch-count").inner_text()
    page.screenshot(path=str(ARTIFACTS / "batch-form-ru.png"), full_page=True)
    page.locator("#batch-form [type=submit]").click()

    results = page.locator("#batch-results")
    results.wait_for(timeout=60_000)
    rows = page.locator(".batch-table tbody tr")
    assert rows.count() == 5
    assert page.locator(".batch-table .batch-rejected").count() == 1
    refused = page.locator(".batch-table .batch-rejected").inner_text()
    assert "notes.txt" in refused and "Неподдерживаемый тип файла" in refused
    # Every numbered file is followed until it is registered (no reload needed).

    expect(page.locator(".batch-table [data-status-url]")).to_have_count(0, timeout=120_000)
    assert page.locator(".batch-table .status-registered").count() == 4
    page.screenshot(path=str(ARTIFACTS / "batch-results-ru.png"), full_page=True)

    with worker_app.app_context():
        works = list(db.session.scalars(db.select(Work).order_by(Work.id)))
        assert [w.title for w in works] == ["Алматы түнде", "almaty 02", "steppe a",
                                            "steppe b"]
        assert len({w.registration_number for w in works}) == 4
        numbers = [w.registration_number for w in works]
    body = results.inner_text()
    assert all(n in body for n in numbers)
    # On a phone (390 px) neither the results nor the form scroll sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "batch-results-ru-390.png"), full_page=True)
    page.goto(f"{live_server}/works/batch")
    page.locator("#files").set_input_files(chosen)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "batch-form-ru-390.png"), full_page=True)
    # Files dropped on the zone join the table too.
    page.evaluate("""() => {
        const drop = new DataTransfer();
        drop.items.add(new File([new Uint8Array(2048)], "dropped_one.jpg", {type: "image/jpeg"}));
        drop.items.add(new File([new Uint8Array(10)], "dropped_two.png", {type: "image/png"}));
        document.getElementById("drop-zone").dispatchEvent(
            new DragEvent("drop", {dataTransfer: drop, bubbles: true, cancelable: true}));
    }""")
    expect(page.locator(".batch-files input[name=titles]")).to_have_count(5)
    assert page.locator(".batch-files input[name=titles]").nth(3).input_value() == "dropped one"


def test_a_file_over_the_limit_is_refused_before_the_upload(page, live_server, worker_app,
                                                           media, tmp_path):
    """The page says so at once (register.js's error box, shared with batch.js) and
    keeps the chosen files; nothing is sent."""
    worker_app.config["TAMGA_MAX_UPLOAD_BYTES"] = 2000
    page.goto(f"{live_server}/login")
    page.locator("#email").fill("zhanna@example.kz")
    page.locator("#password").fill("a long enough secret")
    page.locator("main form [type=submit]").first.click()
    page.wait_for_url(f"{live_server}/")
    big = tmp_path / "big.jpg"
    shutil.copy(media.picture(305), big)
    assert big.stat().st_size > 2000
    page.goto(f"{live_server}/works/batch")
    page.locator("#work_type").select_option("photograph")
    page.locator("#creation").fill("2025")
    page.locator("#files").set_input_files([str(big)])
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.method))
    page.locator("#batch-form [type=submit]").click()
    error = page.locator("#batch-form .upload-error[role=alert]")
    expect(error).to_contain_text("larger than")
    assert page.locator(".batch-files tbody tr").count() == 1
    assert "POST" not in requests
    with worker_app.app_context():
        assert db.session.query(Work).count() == 0
