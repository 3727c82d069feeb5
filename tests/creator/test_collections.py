"""Named collections (issue 20): albums, series and photo sets with a public page that
lists only the public registered works to others."""

from __future__ import annotations

import re

from registry.extensions import db
from registry.models import Collection, CollectionItem


def _ids(page: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"KZ-\d{4}-\d{6}", page)))


def _new(client, title: str = "Steppe album", kind: str = "album") -> int:
    response = client.post("/collections/", data={"title": title, "kind": kind,
                                                  "description": "Six songs."})
    assert response.status_code == 302, response.data[:300]
    return int(response.headers["Location"].rstrip("/").split("/")[-2])


def test_an_album_lists_its_public_works_in_order_and_hides_private_ones(app, cast, media):
    first = cast.register("aigerim", media.picture(41), "Track one")
    second = cast.register("aigerim", media.picture(42), "Track two")
    hidden = cast.register("aigerim", media.picture(43), "Demo", visibility="private")
    client = cast.accounts.client
    cid = _new(client)
    response = client.post(f"/collections/{cid}/edit", data={
        "title": "Steppe album", "kind": "album", "description": "Six songs.",
        "works": [first, second, hidden],
        f"pos-{first}": "2", f"pos-{second}": "1", f"pos-{hidden}": "3"})
    assert response.status_code == 302
    collection = db.session.get(Collection, cid)
    assert [i.work.registration_number for i in collection.items] == [second, first, hidden]

    owner_view = client.get(f"/collections/{cid}").get_data(as_text=True)
    assert _ids(owner_view) == [second, first, hidden]
    assert "private: hidden from others" in owner_view

    for who in ("bolat", None):
        cast.accounts.logout()
        if who:
            cast.login(who)
        page = client.get(f"/collections/{cid}").get_data(as_text=True)
        assert _ids(page) == [second, first], who
        assert "Demo" not in page and "Steppe album" in page and "Album" in page
    # The public work page links to the collection; the private one does not show it.
    assert f'href="/collections/{cid}"' in client.get(f"/w/{first}").get_data(as_text=True)
    assert f'href="/collections/{cid}"' not in client.get(f"/w/{hidden}").get_data(as_text=True)


def test_only_the_owner_changes_a_collection_and_only_with_own_works(app, cast, media):
    mine = cast.register("aigerim", media.picture(44), "Mine")
    theirs = cast.register("bolat", media.picture(45), "Theirs")
    cast.login("aigerim")
    client = cast.accounts.client
    cid = _new(client, "Series", "series")
    client.post(f"/collections/{cid}/edit", data={"title": "Series", "kind": "series",
                                                  "works": [mine]})
    refused = client.post(f"/collections/{cid}/edit", data={
        "title": "Renamed", "kind": "series", "works": [mine, theirs]})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert f"{theirs} is not one of them" in page
    assert 'value="Renamed"' in page and f'name="pos-{mine}" id' in page  # typed input kept
    assert re.search(rf'value="{mine}" id="[^"]+" checked', page)
    db.session.expire_all()
    collection = db.session.get(Collection, cid)  # nothing half-written
    assert collection.title == "Series"
    assert [i.work.registration_number for i in collection.items] == [mine]

    cast.login("bolat")
    assert client.get(f"/collections/{cid}/edit").status_code == 403
    assert client.post(f"/collections/{cid}/delete").status_code == 403
    assert client.post(f"/collections/{cid}/edit", data={
        "title": "Mine now", "kind": "album", "works": [theirs]}).status_code == 403
    cast.login("aigerim")
    assert client.post(f"/collections/{cid}/delete").status_code == 302
    assert db.session.get(Collection, cid) is None
    assert db.session.scalar(db.select(db.func.count(CollectionItem.id))) == 0
    assert cast.work(mine) is not None  # the works stay registered


def test_bad_collection_input_is_refused_with_a_message(app, cast, media):
    cast.register("aigerim", media.picture(46), "Anything")
    client = cast.accounts.client
    for data, message in (({"title": "", "kind": "album"}, "This field is required"),
                          ({"title": "x" * 201, "kind": "album"}, "200"),
                          ({"title": "Set", "kind": "mixtape"}, "Not a valid choice")):
        response = client.post("/collections/", data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Collection.id))) == 0
    assert client.get("/collections/999").status_code == 404
