"""Issue 12: a new password (changed, or reset by e-mail) ends every other login session
of the account, always — there is no way to keep them — remembered devices included."""

from __future__ import annotations

from tests.web.test_accounts import link_in, outbox_messages

STRONG = "correct horse battery"
BETTER = "a much better secret"


def _logged_in(client) -> bool:
    return client.get("/account/profile").status_code == 200


def test_changing_the_password_logs_out_every_other_browser(app, accounts):
    accounts.create()
    laptop, phone, tablet = app.test_client(), app.test_client(), app.test_client()
    for browser in (laptop, phone):
        accounts.client = browser
        assert accounts.login().status_code == 302
    accounts.client = tablet
    accounts.login(remember=True)
    tablet.delete_cookie("session", domain="tamga.test")  # the browser was closed
    assert all(_logged_in(b) for b in (laptop, phone, tablet))  # tablet: remember cookie
    # An old form that still sends "keep my other sessions" changes nothing.
    response = laptop.post("/account/password", data={
        "current": STRONG, "password": BETTER, "password_confirm": BETTER,
        "end_other_sessions": ""})
    assert response.status_code == 302
    assert _logged_in(laptop)
    assert not _logged_in(phone)
    tablet.delete_cookie("session", domain="tamga.test")
    assert not _logged_in(tablet)
    page = laptop.get("/account/profile", follow_redirects=True)
    assert page.status_code == 200


def test_the_change_password_page_offers_no_way_to_keep_other_sessions(client, accounts):
    accounts.create()
    accounts.login()
    page = client.get("/account/password").data
    assert b"end_other_sessions" not in page
    assert b"logs out every other device" in page


def test_a_reset_logs_out_every_session(app, client, accounts):
    accounts.create()
    other = app.test_client()
    accounts.client = other
    accounts.login()
    assert _logged_in(other)
    client.post("/reset", data={"email": "aigerim@example.kz"})
    path = link_in(outbox_messages(app)[0], "/reset/")
    assert client.post(path, data={"password": BETTER, "password_confirm": BETTER}
                       ).status_code == 302
    assert not _logged_in(other)
    assert accounts.login(password=BETTER).status_code == 302
