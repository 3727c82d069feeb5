"""A Kyrgyz and an Uzbek creator: switch language, sign up, register, get the certificate."""

from __future__ import annotations

import io
import subprocess
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_account_browser import _confirmation_link

pytestmark = pytest.mark.browser

WALKS = [
    # language, switcher button, words on the home page, words on the ky+ru / uz+ru certificate
    ("ky", "Кыргызча", "Чыгармаңызды каттаңыз", ["КАТТОО ЖӨНҮНДӨ КҮБӨЛҮК", "Каттоо номери",
                                                "Регистрационный номер"]),
    ("uz", "Oʻzbekcha", "Asaringizni roʻyxatdan oʻtkazing",
     ["ROʻYXATDAN OʻTKAZISH TOʻGʻRISIDA GUVOHNOMA", "Roʻyxat raqami", "Регистрационный номер"]),
]


@pytest.mark.parametrize(("lang", "button", "home_words", "cert_words"), WALKS)
def test_signup_registration_and_certificate_in_kyrgyz_and_uzbek(
        page, live_server, live_app, thread_worker, media, tmp_path, lang, button, home_words,
        cert_words):
    page.goto(live_server)
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == lang
    assert home_words in page.get_by_role("heading", level=1).inner_text()
    page.screenshot(path=str(ARTIFACTS / f"home-{lang}.png"), full_page=True)

    email = f"creator-{lang}@example.kz"
    page.goto(f"{live_server}/signup")
    page.locator("#email").fill(email)
    page.locator("#display_name").fill("Айпери" if lang == "ky" else "Dilnoza")
    page.locator("#password").fill("steppe wind melody")
    page.locator("#password_confirm").fill("steppe wind melody")
    page.screenshot(path=str(ARTIFACTS / f"signup-{lang}.png"), full_page=True)
    page.locator("form #submit").click()
    page.wait_for_url("**/login")
    page.goto(_confirmation_link(Path(live_app.config["TAMGA_OUTBOX_DIR"])))
    page.goto(f"{live_server}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill("steppe wind melody")
    page.locator("form #submit").click()
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/works/new")
    title = "Жаңы жылдын ыры" if lang == "ky" else "Oʻzbekiston — Vatanim manim"
    page.locator("#title").fill(title)
    page.locator("#work_type").select_option("photograph")
    page.locator("#authors-0-full_name").fill("Айпери Токтогулова" if lang == "ky"
                                              else "Dilnoza Yoʻldosheva")
    page.locator("#authors-0-role").select_option("photographer")
    page.locator("#creation").fill("2025")
    page.locator("#file").set_input_files(str(media.picture(70 + len(lang))))
    page.screenshot(path=str(ARTIFACTS / f"register-{lang}-form.png"), full_page=True)
    page.locator("form#registration-form [type=submit]").click()
    page.wait_for_url("**/works/KZ-*")
    number = page.url.rsplit("/", 1)[-1]
    _wait_registered(page, live_server, number)
    page.goto(f"{live_server}/works/{number}", wait_until="load")
    assert title in page.content()
    page.screenshot(path=str(ARTIFACTS / f"register-{lang}-registered.png"), full_page=True)

    response = page.request.get(f"{live_server}/w/{number}/certificate.pdf?lang={lang}%2Bru")
    assert response.status == 200
    pdf = response.body()
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    for words in [*cert_words, title]:
        assert words in text, words
    certificate = tmp_path / f"certificate-{lang}.pdf"
    certificate.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(certificate),
                    str(ARTIFACTS / f"certificate-{lang}-ru")], check=True)


def _wait_registered(page, server: str, number: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = page.request.get(f"{server}/works/{number}/status.json").json()
        if state["status"] == "registered":
            return
        assert state["status"] == "processing", state
        time.sleep(0.5)
    raise AssertionError(f"{number} was not registered within {timeout} s")
