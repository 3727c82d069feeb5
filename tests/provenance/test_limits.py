"""The reservations check and the published reservation forms are rate-limited per
address like the lookups (``TAMGA_LOOKUP_LIMIT_*``), each in a bucket of its own."""

from __future__ import annotations

from tests.lookup.test_lookup_limits import make_token

ZEROS = {"sha256": ["0" * 64]}


def test_check_api_is_limited_per_address_in_its_own_bucket(app, client):
    app.config["TAMGA_LOOKUP_LIMIT_ANON"] = "2 per minute"
    codes = [client.post("/api/v1/reservations/check", json=ZEROS).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = client.post("/api/v1/reservations/check", data={},
                          content_type="multipart/form-data")  # the file form counts too
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    assert int(limited.headers["Retry-After"]) >= 1
    other = client.post("/api/v1/reservations/check", json=ZEROS,
                        environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200
    # The lookup keeps its own budget.
    assert client.post("/api/v1/lookup", json={"sha256": "0" * 64}).status_code == 200


def test_check_api_tokens_get_the_higher_limit(app, client, accounts):
    app.config.update(TAMGA_LOOKUP_LIMIT_ANON="1 per minute",
                      TAMGA_LOOKUP_LIMIT_TOKEN="3 per minute")
    headers = {"Authorization": f"Bearer {make_token(app, accounts)}"}
    codes = [client.post("/api/v1/reservations/check", json=ZEROS,
                         headers=headers).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_published_forms_share_one_limited_bucket(app, client):
    app.config["TAMGA_LOOKUP_LIMIT_ANON"] = "3 per minute"
    codes = [client.get(url).status_code for url in (
        "/.well-known/tdmrep.json", "/robots.txt", "/ai-training-policy.json", "/robots.txt")]
    assert codes == [200, 200, 200, 429]
    page = client.get("/.well-known/tdmrep.json", headers={"Accept-Language": "ru"})
    assert page.status_code == 429 and 'lang="ru"' in page.text
    assert client.get("/robots.txt", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 200


def test_exempt_addresses_are_not_limited(app, client):
    app.config.update(TAMGA_LOOKUP_LIMIT_ANON="1 per minute",
                      TAMGA_LOOKUP_LIMIT_EXEMPT=["127.0.0.1"])
    assert [client.post("/api/v1/reservations/check", json=ZEROS).status_code
            for _ in range(3)] == [200] * 3
    assert [client.get("/robots.txt").status_code for _ in range(3)] == [200] * 3
