"""Text search: scripts, folding, names, codes, filters, pagination, private works."""

from __future__ import annotations

import pytest

from registry.core.text_normalize import fold, kazakh_latin
from registry.extensions import db
from registry.models.work import Visibility, Work, WorkStatus, WorkType
from registry.services.search import SearchFilters, rebuild_index, search_works


def numbers(app, query: str, **filters) -> list[str]:
    with app.app_context():
        found = search_works(db.session.connection(), query, SearchFilters(**filters))
        return [h.registration_number for h in found.hits]


@pytest.mark.parametrize(("typed", "stored"), [
    ("Қазақ әні", "qazaq äni"), ("Qazaq a'ni", "ҚАЗАҚ ӘНІ"), ("Şämşı", "Шәмші"),
    ("Zhuldyz", "Жұлдыз"), ("Jūldyz", "жұлдыз"), ("CAFÉ", "cafe"), ("Kaldayakov", "Қалдаяқов"),
])
def test_fold_meets_in_the_middle(typed, stored):
    assert fold(typed) == fold(stored)


def test_fold_keeps_different_words_apart():
    assert fold("Алматы") != fold("Астана")
    assert kazakh_latin("Қазақстан Шәмші") == "Qazaqstan Şämşı"


def test_cyrillic_title_found_by_latin_and_back(app, catalogue):
    kk = catalogue.add("Көктем әні")
    latin = catalogue.add("Dala samaly")
    catalogue.add("Unrelated song")
    assert numbers(app, "Köktem äni") == [kk]
    assert numbers(app, "коктем") == [kk]
    assert numbers(app, "КӨКТЕМ") == [kk]
    assert numbers(app, "Дала самалы") == [latin]


def test_kazakh_letters_and_apostrophe_alphabet(app, catalogue):
    number = catalogue.add("Шағалалар", original_title="Чайки")
    assert numbers(app, "Şağalalar") == [number]
    assert numbers(app, "s'ag'alalar") == [number]
    assert numbers(app, "Chaiki") == [number]


def test_author_and_registrant_names(app, catalogue):
    by_author = catalogue.add("Song one", authors=("Шәмші Қалдаяқов",), registrant="Aigerim")
    by_registrant = catalogue.add("Song two", authors=("Someone",), registrant="Дана Әлиева")
    assert numbers(app, "Shamshi Kaldayakov") == [by_author]
    assert numbers(app, "Dana Alieva") == [by_registrant]


def test_prefix_and_ranking_prefers_titles(app, catalogue):
    in_people = catalogue.add("Other", authors=("Dombra Player",))
    in_title = catalogue.add("Dombra kuy")
    assert numbers(app, "domb") == [in_title, in_people]


def test_private_work_not_found_by_title_but_by_codes(app, catalogue):
    secret = catalogue.add("Secret melody", visibility=Visibility.PRIVATE,
                           iscc="ISCC:KAD2Y3N6T4XPMCKE")
    assert numbers(app, "secret melody") == []
    with app.app_context():
        found = search_works(db.session.connection(), secret.lower())
        hit = found.hits[0]
        assert found.exact_number == secret
        assert hit.title is None and hit.authors == [] and hit.registrant is None
        assert hit.sha256 == catalogue.sha256(secret)
    assert numbers(app, catalogue.sha256(secret).upper()) == [secret]
    assert numbers(app, "ISCC:KAD2Y3N6T4XPMCKE") == [secret]
    assert numbers(app, "kad2y3n6t4xpmcke") == [secret]


def test_iscc_and_sha256_of_public_work(app, catalogue):
    number = catalogue.add("Public", iscc="ISCC:KAD2Y3N6T4XPMCKF")
    assert numbers(app, "ISCC:KAD2Y3N6T4XPMCKF") == [number]
    assert numbers(app, catalogue.sha256(number)) == [number]


def test_filters(app, catalogue):
    photo = catalogue.add("Steppe", work_type=WorkType.PHOTOGRAPH, country="KG", year=2025)
    song = catalogue.add("Steppe", work_type=WorkType.SOUND_RECORDING, country="KZ", year=2026)
    gone = catalogue.add("Steppe", status=WorkStatus.WITHDRAWN)
    catalogue.add("Steppe", status=WorkStatus.PROCESSING)
    assert set(numbers(app, "steppe")) == {photo, song, gone}
    assert numbers(app, "steppe", work_type="photograph") == [photo]
    assert numbers(app, "steppe", country="KZ", status="registered") == [song]
    assert numbers(app, "steppe", year=2025) == [photo]
    assert numbers(app, "steppe", status="withdrawn") == [gone]
    assert numbers(app, "", work_type="photograph") == [photo]


def test_pagination(app, catalogue):
    made = [catalogue.add(f"Nocturne {i}") for i in range(25)]
    with app.app_context():
        conn = db.session.connection()
        first = search_works(conn, "nocturne", page=1, per_page=10)
        third = search_works(conn, "nocturne", page=3, per_page=10)
    assert first.total == 25 and first.pages == 3 and first.has_next and not first.has_prev
    assert len(third.hits) == 5 and not third.has_next
    seen = {h.registration_number for h in first.hits} | {h.registration_number for h in third.hits}
    assert seen <= set(made) and len(seen) == 15


def test_index_follows_amendments_visibility_and_renames(app, catalogue):
    number = catalogue.add("Old title", registrant="Berik")
    with app.app_context():
        work = db.session.scalar(db.select(Work).filter_by(registration_number=number))
        work.title = "New title"
        db.session.commit()
    assert numbers(app, "old title") == [] and numbers(app, "new title") == [number]
    with app.app_context():
        work = db.session.scalar(db.select(Work).filter_by(registration_number=number))
        work.registrant.display_name = "Серік"
        db.session.commit()
    assert numbers(app, "serik") == [number] and numbers(app, "berik") == []
    with app.app_context():
        work = db.session.scalar(db.select(Work).filter_by(registration_number=number))
        work.visibility = Visibility.PRIVATE
        db.session.commit()
    assert numbers(app, "new title") == []


def test_rebuild_index_restores_everything(app, catalogue):
    number = catalogue.add("Rebuilt")
    catalogue.add("Hidden", visibility=Visibility.PRIVATE)
    with app.app_context():
        assert rebuild_index(db.session.connection()) == 2
        db.session.commit()
    assert numbers(app, "rebuilt") == [number] and numbers(app, "hidden") == []


def test_search_page_redirects_exact_number(client, catalogue):
    number = catalogue.add("Any")
    response = client.get(f"/search?q={number.lower()}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/w/{number}")


def test_search_page_lists_hits_with_shareable_filters(client, catalogue):
    catalogue.add("Алтын күз", authors=("Ерлан",), work_type=WorkType.PHOTOGRAPH)
    page = client.get("/search?q=altyn+kuz&type=photograph")
    assert page.status_code == 200
    assert "Алтын күз" in page.text and "Ерлан" in page.text
    assert 'value="photograph" selected' in page.text
    empty = client.get("/search?q=nothing+like+this")
    assert "No registered work matches" in empty.text


def test_search_page_paginates_with_links(client, catalogue):
    for i in range(23):
        catalogue.add(f"Kuy {i}")
    page = client.get("/search?q=kuy")
    assert "23 works found" in page.text
    assert "page=2" in page.text and "q=kuy" in page.text
    second = client.get("/search?q=kuy&page=2")
    assert second.text.count('class="search-hit"') == 3


def test_header_has_search_box_and_lookup_link(client):
    home = client.get("/")
    assert 'action="/search"' in home.text and 'href="/lookup"' in home.text


def test_search_api_json_and_pagination(client, catalogue):
    made = [catalogue.add(f"Жыр {i}", work_type=WorkType.MUSICAL_WORK) for i in range(22)]
    catalogue.add("Жыр hidden", visibility=Visibility.PRIVATE)
    body = client.get("/api/v1/search?q=jyr&type=musical_work").get_json()
    assert body["total"] == 22 and body["pages"] == 2 and len(body["results"]) == 20
    first = body["results"][0]
    assert first["registration_number"] in made and first["title"].startswith("Жыр")
    assert first["visibility"] == "public" and first["matched_by"] == "text"
    assert first["url"].endswith(f"/w/{first['registration_number']}")
    assert "page=2" in body["next"] and body["prev"] is None
    second = client.get(body["next"]).get_json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert client.get("/api/v1/search?q=jyr&page=0").status_code == 400


def test_search_api_private_work_by_number(client, catalogue):
    number = catalogue.add("Private one", visibility=Visibility.PRIVATE)
    body = client.get(f"/api/v1/search?q={number}").get_json()
    [hit] = body["results"]
    assert body["exact_match"] == number
    assert hit["title"] is None and hit["authors"] == [] and hit["registrant"] is None
    assert hit["visibility"] == "private" and hit["sha256"] == catalogue.sha256(number)
