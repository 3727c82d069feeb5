"""Issue 12, item 10: 500s found by the attack (NUL bytes in paths and query strings on
PostgreSQL, ``checkpoints/99999999999999999999``, an author name over 200 characters in
the API, ``creation=2024-02-30`` in the web form, the year ``0000`` accepted). Each is a
4xx with a clear message now; Hypothesis then throws arbitrary values at the API's
parameters and the forms' fields and asserts "never a 500"."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.registration import form_data, post_form

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
NUMBERS = st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), TEXT)
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.mark.parametrize("url", [
    "/w/KZ%00-2026", "/search?q=a%00b", "/api/v1/search?q=%00", "/api/v1/search?page=1%00",
    "/api/v1/works/KZ-2026-000001%00", "/lookup?x%00=1", "/disputes/1%00",
    "/api/v1/ledger/entries?start=0%00", "/verify?number=KZ%00",
])
def test_nul_bytes_are_a_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", [
    "/api/v1/ledger/checkpoints/99999999999999999999", "/disputes/99999999999999999999",
    "/api/v1/ledger/entries?start=99999999999999999999",
    "/api/v1/ledger/proof/inclusion?index=99999999999999999999&size=1",
])
def test_numbers_beyond_any_id(client, url):
    assert 400 <= client.get(url).status_code < 500


def test_an_author_name_over_200_characters_in_the_api(client, api_account, media):
    path = media.picture(31)
    with open(path, "rb") as fh:
        response = client.post("/api/v1/works", headers=api_account.headers,
                               content_type="multipart/form-data", data={
                                   "title": "x", "work_type": "photograph",
                                   "authors": json.dumps([{"full_name": "А" * 201,
                                                           "role": "photographer",
                                                           "share": 100}]),
                                   "file": (fh, path.name)})
    assert response.status_code == 422
    assert "200" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("creation, message", [
    ("2024-02-30", "no such date"), ("2023-13-01", "no such date"),
    ("0000", "not plausible"), ("0000-01-01", "no such date"),
])
def test_impossible_creation_dates_in_the_form(app, accounts, client, media, creation, message):
    app.config["TAMGA_WORKER"] = "sync"
    accounts.create()
    accounts.login()
    response = post_form(client, media.picture(32), creation=creation)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_impossible_creation_date_when_amending(app, accounts, client, media):
    app.config["TAMGA_WORKER"] = "sync"
    accounts.create()
    accounts.login()
    number = post_form(client, media.picture(33)).headers["Location"].rsplit("/")[-1]
    data = form_data(None, creation="2024-02-30")
    response = client.post(f"/works/{number}/edit", data=data)
    assert response.status_code == 422
    assert "no such date" in response.get_data(as_text=True)


@PROPERTY
@given(q=TEXT, page=NUMBERS, work_type=TEXT, country=TEXT, year=NUMBERS, status=TEXT)
def test_search_api_never_500(client, q, page, work_type, country, year, status):
    response = client.get("/api/v1/search", query_string={
        "q": q, "page": page, "work_type": work_type, "country": country, "year": year,
        "status": status})
    assert response.status_code < 500
    response = client.get("/search", query_string={"q": q, "page": page, "year": year})
    assert response.status_code < 500


@PROPERTY
@given(start=NUMBERS, end=NUMBERS, index=NUMBERS, size=NUMBERS, number=TEXT)
def test_ledger_and_lookup_api_never_500(client, start, end, index, size, number):
    for url, args in [("/api/v1/ledger/entries", {"start": start, "end": end}),
                      ("/api/v1/ledger/proof/inclusion", {"index": index, "size": size}),
                      ("/api/v1/ledger/proof/consistency", {"old": start, "new": end}),
                      ("/verify", {"number": number})]:
        assert client.get(url, query_string=args).status_code < 500, (url, args)
    assert client.get(f"/api/v1/ledger/checkpoints/{size}").status_code < 500
    assert client.post("/api/v1/lookup", json={"sha256": number}).status_code < 500
    assert client.get("/api/v1/works/" + number.replace("/", "_")).status_code < 500


@PROPERTY
@given(email=TEXT, password=TEXT, name=TEXT)
def test_account_forms_never_500(client, email, password, name):
    for url, data in [("/signup", {"email": email, "password": password,
                                   "password2": password, "display_name": name}),
                      ("/login", {"email": email, "password": password}),
                      ("/reset", {"email": email})]:
        assert client.post(url, data=data).status_code < 500, url


@PROPERTY
@given(title=TEXT, creation=TEXT, author=TEXT, share=TEXT, published_on=TEXT, url=TEXT)
def test_registration_form_fields_never_500(app, accounts, client, media, title, creation,
                                            author, share, published_on, url):
    if not getattr(app, "_never500_login", False):
        accounts.create()
        accounts.login()
        app._never500_login = True
    response = post_form(client, media.picture(34), title=title, creation=creation, **{
        "authors-0-full_name": author, "authors-0-share": share,
        "published_on": published_on, "publication_url": url})
    assert response.status_code < 500
