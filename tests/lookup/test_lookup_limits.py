"""Rate limits of the lookups: per address when anonymous, higher with a token or account."""

from __future__ import annotations

from registry.extensions import db

ZEROS = {"sha256": "0" * 64}


def make_token(app, accounts) -> str:
    from registry.models.user import User
    from registry.services import tokens

    user_id = accounts.create("api@example.kz", name="Partner")
    with app.app_context():
        created = tokens.create_token(db.session.get(User, user_id), "lookup tests")
        db.session.commit()
        return created.secret


def test_anonymous_api_lookups_are_limited_per_address(app, client):
    app.config["TAMGA_LOOKUP_LIMIT_ANON"] = "2 per minute"
    assert [client.post("/api/v1/lookup", json=ZEROS).status_code for _ in range(2)] == [200, 200]
    limited = client.post("/api/v1/lookup", json=ZEROS)
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    other = client.post("/api/v1/lookup", json=ZEROS, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_tokens_get_the_higher_limit(app, client, accounts):
    app.config.update(TAMGA_LOOKUP_LIMIT_ANON="1 per minute",
                      TAMGA_LOOKUP_LIMIT_TOKEN="5 per minute",
                      TAMGA_API_RATE_LIMIT="3 per minute")  # the lookup limit replaces it
    headers = {"Authorization": f"Bearer {make_token(app, accounts)}"}
    codes = [client.post("/api/v1/lookup", json=ZEROS, headers=headers).status_code
             for _ in range(6)]
    assert codes == [200] * 5 + [429]


def test_search_api_is_limited_too(app, client):
    app.config["TAMGA_LOOKUP_LIMIT_ANON"] = "1 per minute"
    assert client.get("/api/v1/search?q=x").status_code == 200
    assert client.get("/api/v1/search?q=x").status_code == 429


def test_web_lookup_limit_gives_a_friendly_page_in_the_users_language(app, client, accounts):
    app.config.update(TAMGA_LOOKUP_LIMIT_ANON="1 per minute",
                      TAMGA_LOOKUP_LIMIT_USER="3 per minute")
    assert client.post("/lookup", data=ZEROS).status_code == 200
    page = client.post("/lookup", data=ZEROS, headers={"Accept-Language": "ru"})
    assert page.status_code == 429
    assert "<html" in page.text and 'lang="ru"' in page.text
    accounts.create()
    accounts.login()
    assert [client.post("/lookup", data=ZEROS).status_code for _ in range(3)] == [200] * 3


def test_exempt_addresses(app, client):
    app.config.update(TAMGA_LOOKUP_LIMIT_ANON="1 per minute",
                      TAMGA_LOOKUP_LIMIT_EXEMPT=["127.0.0.1"])
    assert [client.post("/api/v1/lookup", json=ZEROS).status_code for _ in range(3)] == [200] * 3
