"""Issue 12, item 9: the audit trail — security-relevant events written in the same
transaction as the action, listed for administrators (filtered, paginated, translated)."""

from __future__ import annotations

from registry.extensions import db
from registry.models.user import AuditEvent

STRONG = "correct horse battery"
BETTER = "a much better secret"


def _kinds(app, **filters) -> list[str]:
    with app.app_context():
        return [e.action for e in db.session.scalars(
            db.select(AuditEvent).filter_by(**filters).order_by(AuditEvent.id))]


def test_account_events_are_recorded(app, client, accounts):
    accounts.create()
    client.post("/login", data={"email": "aigerim@example.kz", "password": "wrong one"})
    client.post("/login", data={"email": "ghost@example.kz", "password": "wrong one"})
    accounts.login()
    client.post("/account/tokens", data={"name": "laptop script"})
    with app.app_context():
        from registry.models.token import ApiToken

        token_id = db.session.scalar(db.select(ApiToken.id))
    client.post("/account/tokens/revoke", data={"token_id": str(token_id)})
    client.post("/account/password", data={"current": STRONG, "password": BETTER,
                                           "password_confirm": BETTER})
    assert _kinds(app) == ["login_failed", "login_failed", "login", "token_created",
                           "token_revoked", "password_changed"]
    with app.app_context():
        unknown = db.session.scalar(db.select(AuditEvent).filter_by(actor_id=None))
        assert unknown.target == "ghost@example.kz"
        assert all(e.ip_address == "127.0.0.1" for e in db.session.scalars(
            db.select(AuditEvent)))


def test_a_refused_action_writes_no_event(app, client, accounts):
    """The event lands with the action or not at all: a wrong current password changes
    nothing and records no password change."""
    accounts.create()
    accounts.login()
    client.post("/account/password", data={"current": "not my password", "password": BETTER,
                                           "password_confirm": BETTER})
    assert "password_changed" not in _kinds(app)


def test_password_reset_is_recorded(app, client, accounts):
    from tests.web.test_accounts import link_in, outbox_messages

    accounts.create()
    client.post("/reset", data={"email": "aigerim@example.kz"})
    path = link_in(outbox_messages(app)[0], "/reset/")
    client.post(path, data={"password": BETTER, "password_confirm": BETTER})
    assert _kinds(app, action="password_reset") == ["password_reset"]


def test_moderators_decisions_are_recorded(app, cast, two_pictures):
    _earlier, later = two_pictures
    cast.login("moder")
    response = cast.accounts.client.post(f"/moderation/conflicts/{later}")
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).filter_by(
            action="conflict_case_opened"))
        assert event.actor.email == "moder@example.kz" and event.details == later
        assert event.target.startswith("D-")


def _admin(app, accounts):
    accounts.create("boss@example.kz", name="Boss", role="admin")
    accounts.login("boss@example.kz")


def test_only_administrators_see_the_trail(app, client, accounts):
    accounts.create()
    accounts.login()
    assert client.get("/admin/audit").status_code == 403
    accounts.logout()
    accounts.create("mod@example.kz", role="moderator")
    accounts.login("mod@example.kz")
    assert client.get("/admin/audit").status_code == 403
    accounts.logout()
    assert client.get("/admin/audit").status_code == 302  # to the login page
    _admin(app, accounts)
    page = client.get("/admin/audit")
    assert page.status_code == 200 and b"Audit trail" in page.data
    assert b"boss@example.kz" in page.data


def test_the_trail_filters_by_account_and_kind_and_pages(app, client, accounts):
    accounts.create("dana@example.kz", name="Dana")
    for _ in range(3):
        client.post("/login", data={"email": "dana@example.kz", "password": "wrong one"})
    with app.app_context():
        from registry.services import audit

        for n in range(60):
            audit.record("login_failed", actor=None, target=f"probe{n}@example.kz")
        db.session.commit()
    _admin(app, accounts)

    dana = client.get("/admin/audit?account=Dana@Example.kz").data.decode()
    assert dana.count("<tr class=\"audit-login_failed\"") == 3
    assert "probe" not in dana
    logins = client.get("/admin/audit?kind=login").data.decode()
    assert logins.count("<tr class=\"audit-login\"") == 1 and "audit-login_failed" not in logins
    first = client.get("/admin/audit").data.decode()
    assert first.count("<tr class=\"audit-") == 50 and 'rel="next"' in first
    second = client.get("/admin/audit?page=2").data.decode()
    assert second.count("<tr class=\"audit-") == 64 - 50  # 3 + 60 + the admin's login
    assert client.get("/admin/audit?kind=nonsense&page=99").status_code == 200
    assert client.get("/admin/audit?page=abc").status_code == 200


def test_the_trail_is_translated(app, client, accounts):
    _admin(app, accounts)
    for lang, title, kind in [("ru", "Журнал аудита", "Вход выполнен"),
                              ("kk", "Аудит журналы", "Кірді")]:
        page = client.get("/admin/audit", headers={"Accept-Language": lang}).data.decode()
        assert title in page and kind in page, lang
