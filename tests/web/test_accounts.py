"""Sign-up, confirmation, login sessions, passwords and profile, through HTTP."""

from __future__ import annotations

import email
import re
from pathlib import Path

from registry.extensions import db
from registry.models.user import User, UserSession

STRONG = "correct horse battery"


def outbox_messages(app) -> list[email.message.Message]:
    """The messages the job runner delivered from the outbox (it runs what is due first)."""
    from registry.tasks import runner_of

    runner_of(app).run_inline()
    folder = Path(app.config["TAMGA_OUTBOX_DIR"])
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def link_in(message, path_prefix: str) -> str:
    body = message.get_payload(decode=True).decode()
    match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"\S+)", body)
    assert match, body
    return match.group(1)


def signup(client, email_addr="dana@example.kz", password=STRONG, name="Dana"):
    return client.post(
        "/signup",
        data={"email": email_addr, "display_name": name, "password": password,
              "password_confirm": password},
    )


def test_signup_writes_confirmation_to_outbox_and_says_where(client, app):
    response = signup(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers={"Accept-Language": "en"})
    assert b"No mail server is configured" in page.data
    assert b"outbox" in page.data
    (message,) = outbox_messages(app)
    assert message["To"] == "dana@example.kz"
    assert "/confirm/" in message.get_payload(decode=True).decode()


def test_unconfirmed_account_cannot_log_in_until_link_is_opened(client, app, accounts):
    signup(client)
    refused = accounts.login("dana@example.kz")
    assert refused.status_code == 200
    assert b"confirm your e-mail" in refused.data
    confirm_path = link_in(outbox_messages(app)[0], "/confirm/")
    assert client.get(confirm_path).status_code == 302
    assert accounts.login("dana@example.kz").status_code == 302
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="dana@example.kz"))
        assert user.email_confirmed_at is not None


def test_tampered_or_expired_confirmation_link_is_refused(client, app):
    signup(client)
    confirm_path = link_in(outbox_messages(app)[0], "/confirm/")
    assert client.get(confirm_path[:-3] + "xyz").status_code == 400
    app.config["TAMGA_CONFIRM_MAX_AGE"] = -1
    assert client.get(confirm_path).status_code == 400


def test_signup_rejects_weak_and_mismatched_passwords(client, accounts):
    # A taken address gets the same answer as a new one: tests/security/test_enumeration.py
    accounts.create("taken@example.kz")
    assert b"most common" in signup(client, "Taken@Example.kz", password="qwertyuiop").data
    assert b"most common" in signup(client, password="qwertyuiop").data
    assert b"at least 10" in signup(client, password="short1").data.lower()
    mismatch = client.post("/signup", data={
        "email": "x@example.kz", "display_name": "X", "password": STRONG,
        "password_confirm": STRONG + "!"})
    assert b"do not match" in mismatch.data


def test_login_wrong_password_and_unknown_user_give_same_message(client, accounts):
    accounts.create()
    wrong = accounts.login(password="not the password")
    unknown = accounts.login("nobody@example.kz")
    assert b"Wrong e-mail or password" in wrong.data
    assert b"Wrong e-mail or password" in unknown.data


def test_logout_ends_session_server_side_replayed_cookie_refused(client, accounts, app):
    accounts.create()
    assert accounts.login().status_code == 302
    cookie = client.get_cookie("session", domain="tamga.test")
    assert client.get("/account/profile").status_code == 200
    accounts.logout()
    client.set_cookie("session", cookie.value, domain=cookie.domain)
    replay = client.get("/account/profile")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]
    with app.app_context():
        assert all(s.revoked_at is not None for s in db.session.scalars(db.select(UserSession)))


def test_remember_cookie_is_useless_after_logout(app, accounts):
    accounts.create()
    browser = app.test_client()
    accounts.client = browser
    accounts.login(remember=True)
    remember = browser.get_cookie("remember_token", domain="tamga.test")
    assert remember is not None and remember.http_only
    accounts.logout()
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember.value, domain=remember.domain)
    assert fresh.get("/account/profile").status_code == 302


def test_session_cookies_are_httponly_lax_and_secure_over_https(client, accounts):
    accounts.create()
    response = client.post("/login", data={"email": "aigerim@example.kz", "password": STRONG,
                                            "remember": "y"}, base_url="https://tamga.test")
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies
    for header in cookies:
        assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" in header
    plain = client.post("/language", data={"lang": "ru"})
    assert "Secure" not in plain.headers["Set-Cookie"]


def test_password_change_always_ends_other_sessions(app, accounts):
    accounts.create()
    laptop, phone = app.test_client(), app.test_client()
    for browser in (laptop, phone):
        accounts.client = browser
        accounts.login()
    response = laptop.post("/account/password", data={
        "current": STRONG, "password": "a much better secret", "password_confirm":
        "a much better secret"})
    assert response.status_code == 302
    assert laptop.get("/account/profile").status_code == 200
    assert phone.get("/account/profile").status_code == 302


def test_password_change_requires_current_password(client, accounts):
    accounts.create()
    accounts.login()
    response = client.post("/account/password", data={
        "current": "wrong wrong wrong", "password": "a much better secret",
        "password_confirm": "a much better secret"})
    assert response.status_code == 200
    assert b"current password is wrong" in response.data


def test_password_reset_by_emailed_link_works_once(client, app, accounts):
    accounts.create()
    accounts.login()
    other = app.test_client()
    assert other.post("/reset", data={"email": "aigerim@example.kz"}).status_code == 302
    reset_path = link_in(outbox_messages(app)[-1], "/reset/")
    new = "brand new passphrase"
    reset = other.post(reset_path, data={"password": new, "password_confirm": new})
    assert reset.status_code == 302
    assert client.get("/account/profile").status_code == 302  # old sessions ended
    assert accounts.login(password=new).status_code == 302
    again = other.post(reset_path, data={"password": "yet another one!", "password_confirm":
                                         "yet another one!"})
    assert b"already been used" in again.data


def test_reset_request_does_not_reveal_whether_account_exists(client, app):
    response = client.post("/reset", data={"email": "ghost@example.kz"}, follow_redirects=True)
    assert b"If an account exists" in response.data
    assert outbox_messages(app) == []


def test_profile_saves_and_validates_iin(client, accounts, app):
    user_id = accounts.create()
    accounts.login()
    base = {"display_name": "Aigerim", "legal_name_cyrillic": "Әйгерім Сейітова",
            "legal_name_latin": "Aigerim Seitova", "country": "KZ", "city": "Алматы",
            "phone": "+7 701 123 45 67", "locale": "kk", "timezone": "Asia/Almaty"}
    bad = client.post("/account/profile", data={**base, "iin": "850115452604"})
    assert bad.status_code == 200
    assert b"check digit" in bad.data or "бақылау".encode() in bad.data
    good = client.post("/account/profile", data={**base, "iin": "850115452605"})
    assert good.status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.iin == "850115452605"
        assert user.legal_name_cyrillic == "Әйгерім Сейітова"


def test_pages_that_need_login_redirect_to_login(client):
    response = client.get("/account/profile")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
