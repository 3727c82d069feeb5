"""A creator uploads an AI-generated picture declared "no AI": the form flags it before
anything is registered, keeps the file, and after confirming shows the Content
Credentials panel and the AI label."""

from __future__ import annotations

import pytest

from registry.extensions import db
from tests.browser.conftest import ARTIFACTS, add_creator, log_in
from tests.provenance.c2pa_files import make_test_ca, picture, sign_file

pytestmark = pytest.mark.browser


@pytest.fixture
def worker_app(thread_worker):
    add_creator(thread_worker, "zhanna@example.kz", "Zhanna")
    return thread_worker


def test_mismatch_flag_then_content_credentials_panel(page, live_server, worker_app, tmp_path):
    generated = sign_file(picture(tmp_path, "steppe.jpg", 71), tmp_path / "steppe-ai.jpg",
                          "image/jpeg", make_test_ca(), source_type="trainedAlgorithmicMedia",
                          generator="Midjourney", version="7")
    log_in(page, live_server, "zhanna@example.kz")

    page.goto(f"{live_server}/works/new")
    page.get_by_label("Title", exact=True).fill("Дала таңы")
    page.get_by_label("Kind of work").select_option("photograph")
    page.locator("#authors-0-role").select_option("photographer")
    page.get_by_label("Main file (audio, image or video)").set_input_files(str(generated))
    page.get_by_role("button", name="Register").click()
    warning = page.locator("#ai-mismatch")
    warning.wait_for()
    assert "AI-generated" in warning.inner_text()
    page.screenshot(path=str(ARTIFACTS / "provenance-mismatch-flag.png"), full_page=True)
    # The chosen file is still there: confirming is enough.
    assert page.locator('input[name="file"]').evaluate("el => el.files.length") == 1
    page.get_by_label("I confirm my AI declaration although the file says otherwise").check()
    page.get_by_role("button", name="Register").click()
    page.wait_for_url("**/works/KZ-*")
    page.locator(".facts .status").filter(has_text="registered").wait_for(timeout=60_000)
    panel = page.locator("#content-credentials")
    text = panel.inner_text()
    assert "created with Midjourney 7" in text
    assert "digital source type: trainedAlgorithmicMedia" in text
    assert "valid, signer unknown" in text
    assert page.locator(".ai-label").inner_text().strip().endswith("AI-generated")
    assert panel.locator("#credentialed-download").is_visible()
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "provenance-panel-owner.png"), full_page=True)

    number = page.url.rsplit("/", 1)[-1]
    with page.expect_download() as download:
        page.locator("#credentialed-download").click()
    assert download.value.suggested_filename.endswith(f"{number}-credentialed.jpg")
    page.goto(f"{live_server}/w/{number}")
    assert "signed by Tamga" in page.locator("#content-credentials").inner_text()
    page.screenshot(path=str(ARTIFACTS / "provenance-panel-public.png"), full_page=True)

    page.goto(f"{live_server}/works/")
    row = page.locator("tr", has_text=number)
    assert row.locator(".ai-label").inner_text().strip().endswith("AI-generated")
    page.screenshot(path=str(ARTIFACTS / "provenance-my-works.png"), full_page=True)

    # A lookup reads what the query file declares and shows it beside the match.
    page.goto(f"{live_server}/lookup")
    page.locator('input[name="file"]').set_input_files(str(generated))
    page.get_by_role("button", name="Check").click()
    declared = page.locator("#file-provenance")
    declared.wait_for()
    assert "What your file declares: Content Credentials: created with Midjourney 7" in \
        declared.inner_text()
    assert number in page.locator(".match-card").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "provenance-lookup.png"), full_page=True)


def test_precheck_flags_the_mismatch_before_anything_is_sent(page, live_server, worker_app,
                                                             tmp_path):
    from sqlalchemy import func, select

    from registry.models import Work

    generated = sign_file(picture(tmp_path, "yurt.jpg", 72), tmp_path / "yurt-ai.jpg",
                          "image/jpeg", make_test_ca(), source_type="trainedAlgorithmicMedia",
                          generator="Midjourney", version="7")
    log_in(page, live_server, "zhanna@example.kz")

    page.goto(f"{live_server}/works/new")
    warning = page.locator("#ai-mismatch")
    assert warning.is_hidden()
    page.get_by_label("Title", exact=True).fill("Киіз үй")
    page.get_by_label("Kind of work").select_option("photograph")
    page.get_by_label("No AI was used").check()
    page.get_by_label("Main file (audio, image or video)").set_input_files(str(generated))
    warning.wait_for(state="visible")
    assert "Your file says it is AI-generated, but you declared: no AI used" in \
        warning.inner_text()
    found = page.locator("#file-provenance")
    assert found.inner_text() == ("Content Credentials: created with Midjourney 7, digital "
                                  "source type: trainedAlgorithmicMedia, signed by Tamga "
                                  "(valid, signer unknown)")
    assert page.get_by_label("I confirm my AI declaration although the file says otherwise"
                             ).is_visible()
    assert page.url == f"{live_server}/works/new"  # nothing was submitted
    with worker_app.app_context():
        assert db.session.scalar(select(func.count(Work.id))) == 0
        db.session.remove()
    warning.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "provenance-precheck.png"), full_page=True)

    page.get_by_label("AI-generated: made mostly by an AI system").check()
    warning.wait_for(state="hidden")
    page.get_by_label("AI-assisted: a person made it with the help of AI tools").check()
    assert warning.is_hidden()  # the file says AI; "AI-assisted" does not contradict it
    page.get_by_label("No AI was used").check()
    warning.wait_for(state="visible")
