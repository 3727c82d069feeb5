"""Issue 12, item 11: the per-token limit was keyed on the raw ``Authorization`` header
(``bearer``, ``BEARER`` or extra spaces got fresh buckets); ``/search`` on the web had
no limit; a 429 said ``Retry-After: 0`` while still refusing."""

from __future__ import annotations

import time

from tests.lookup.test_lookup_limits import ZEROS, make_token


def test_spellings_of_one_token_share_one_budget(app, client, accounts):
    app.config.update(TAMGA_LOOKUP_LIMIT_TOKEN="3 per minute")
    token = make_token(app, accounts)
    spellings = [f"Bearer {token}", f"bearer {token}", f"BEARER {token}",
                 f"Bearer   {token}  ", f"  bEaReR {token}"]
    codes = [client.post("/api/v1/lookup", json=ZEROS,
                         headers={"Authorization": s}).status_code for s in spellings]
    assert codes == [200, 200, 200, 429, 429]


def test_the_other_api_calls_too(app, client, accounts):
    app.config.update(TAMGA_API_RATE_LIMIT="2 per minute")
    token = make_token(app, accounts)
    codes = [client.get("/api/v1/works/KZ-2026-000001", headers={"Authorization": s}).status_code
             for s in (f"Bearer {token}", f"bearer {token}", f"BEARER  {token}")]
    assert codes[-1] == 429


def test_web_search_is_limited(app, client):
    app.config["TAMGA_LOOKUP_LIMIT_ANON"] = "2 per minute"
    assert [client.get("/search?q=dombra").status_code for _ in range(3)] == [200, 200, 429]


def test_retry_after_is_at_least_one_and_true(app, client):
    app.config["TAMGA_LOOKUP_LIMIT_ANON"] = "2 per 2 seconds"
    for _ in range(20):
        response = client.post("/api/v1/lookup", json=ZEROS)
        if response.status_code == 429:
            break
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert wait >= 1
    time.sleep(wait)
    assert client.post("/api/v1/lookup", json=ZEROS).status_code == 200
