"""Kyrgyz and Uzbek pages: Accept-Language picks them, the switcher offers five languages."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("header", "lang", "words"), [
    ("ky-KG,ky;q=0.9,ru;q=0.8", "ky", "Чыгармаңызды каттаңыз"),
    ("uz-UZ,uz;q=0.9", "uz", "Asaringizni roʻyxatdan oʻtkazing"),
])
def test_accept_language_picks_kyrgyz_and_uzbek(client, header, lang, words):
    page = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}"' in page and words in page


def test_the_switcher_offers_five_languages_and_keeps_the_choice(client):
    page = client.get("/").get_data(as_text=True)
    for code, name in (("kk", "Қазақша"), ("ru", "Русский"), ("en", "English"),
                       ("ky", "Кыргызча"), ("uz", "Oʻzbekcha")):
        assert f'value="{code}"' in page and name in page
    client.post("/language", data={"lang": "uz", "next": "/"})
    assert '<html lang="uz"' in client.get("/").get_data(as_text=True)


def test_countries_have_their_local_names(client, accounts):
    accounts.create()
    accounts.login()
    page = client.get("/account/profile", headers={"Accept-Language": "uz"}).get_data(as_text=True)
    assert "Qozogʻiston" in page and "Qirgʻiziston" in page and "Oʻzbekiston" in page
    page = client.get("/account/profile", headers={"Accept-Language": "ky"}).get_data(as_text=True)
    assert "Кыргызстан" in page and "Өзбекстан" in page
