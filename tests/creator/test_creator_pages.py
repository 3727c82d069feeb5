"""Opt-in creator pages and the trust pages (issue 20)."""

from __future__ import annotations

import pytest

from registry.extensions import db
from registry.i18n import LANGUAGES


def _profile(cast, name, **changes):
    user = cast.user(name)
    form = {"display_name": user.display_name, "locale": "kk", "timezone": "Asia/Almaty",
            "match_emails": "immediate", "country": "", "ai_training_opt_out_default": "y"}
    form.update(changes)
    return cast.accounts.client.post("/account/profile", data=form)


def test_a_creator_page_is_off_by_default_and_turned_on_in_the_profile(cast, media):
    public = cast.register("aigerim", media.picture(201), "Steppe at noon")
    private = cast.register("aigerim", media.picture(202), "Secret sketch", visibility="private")
    client = cast.accounts.client
    page_url = f"/creators/{cast.ids['aigerim']}"
    cast.accounts.logout()
    assert client.get(page_url).status_code == 404
    cast.login("aigerim")
    assert _profile(cast, "aigerim", public_profile="y").status_code == 302
    assert cast.user("aigerim").public_profile is True
    assert page_url in client.get("/account/profile").get_data(as_text=True)
    cast.accounts.logout()
    body = client.get(page_url).get_data(as_text=True)
    assert "Aigerim" in body and "Steppe at noon" in body and public in body
    assert "Secret sketch" not in body and private not in body  # private works never shown
    assert "1 public work" in body
    work_page = client.get(f"/w/{public}").get_data(as_text=True)
    assert f'href="{page_url}"' in work_page  # the public work page links to the creator
    # Turned off again: gone.
    cast.login("aigerim")
    _profile(cast, "aigerim")
    cast.accounts.logout()
    assert client.get(page_url).status_code == 404


def test_withdrawn_works_and_deleted_accounts_have_no_page(cast, media):
    number = cast.register("aigerim", media.picture(203), "Withdrawn one")
    cast.user("aigerim").public_profile = True
    db.session.commit()
    client = cast.accounts.client
    client.post(f"/works/{number}/withdraw", data={"reason": "a mistake"})
    body = client.get(f"/creators/{cast.ids['aigerim']}").get_data(as_text=True)
    assert "Withdrawn one" not in body and "No public works yet." in body
    client.post("/account/delete", data={"password": cast.accounts.password, "understood": "y"})
    assert client.get(f"/creators/{cast.ids['aigerim']}").status_code == 404
    assert client.get("/creators/99999").status_code == 404


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
@pytest.mark.parametrize("path", ["/terms", "/privacy", "/help"])
def test_the_trust_pages_exist_in_every_language_and_are_linked(client, lang, path):
    response = client.get(path, headers={"Accept-Language": lang})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in body and 'class="card prose trust-page"' in body
    for link in ('href="/terms"', 'href="/privacy"', 'href="/help"'):
        assert link in body.split('class="site-footer"')[1]  # linked from the footer
    assert "mailto:help@tamga.kz" in body


def test_the_trust_pages_say_what_a_creator_needs(client):
    privacy = client.get("/privacy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No. 94-V" in privacy and "The IIN is personal data" in privacy
    assert "until you delete your account" in privacy
    assert "only its registration number, time and file hashes are public" in privacy
    help_page = client.get("/help", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "What it does not prove" in help_page and "tamga-verify" in help_page
    assert "14 days" in help_page
    signup = client.get("/signup", headers={"Accept-Language": "en"}).get_data(as_text=True)
    main = signup.split("<main")[1].split("</main>")[0]
    assert 'href="/terms"' in main and 'href="/privacy"' in main


def test_the_russian_help_page_is_translated(client):
    body = client.get("/help", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Что доказывает сертификат Tamga" in body


def test_a_creator_page_lists_the_collections_anyone_may_see(cast, media):
    """Feature 5: public works *and collections*; a collection of private works only is
    not listed, and a mixed one counts only what the public sees."""
    shown = cast.register("aigerim", media.picture(211), "Dombra at dawn")
    hidden = cast.register("aigerim", media.picture(212), "Draft", visibility="private")
    client = cast.accounts.client
    _profile(cast, "aigerim", public_profile="y")
    ids = []
    for title, works in (("Steppe photo set", [shown, hidden]), ("Drafts", [hidden])):
        made = client.post("/collections/", data={"title": title, "kind": "photo_set",
                                                  "description": ""})
        ids.append(int(made.headers["Location"].rstrip("/").split("/")[-2]))
        client.post(f"/collections/{ids[-1]}/edit", data={
            "title": title, "kind": "photo_set", "description": "", "works": works})
    cast.accounts.logout()
    body = client.get(f"/creators/{cast.ids['aigerim']}").get_data(as_text=True)
    assert f'href="/collections/{ids[0]}"' in body and "Steppe photo set" in body
    assert "1 work" in body  # the private one is not counted
    assert "Drafts" not in body and f'href="/collections/{ids[1]}"' not in body
