"""Issue 12, item 9: two-factor sign-in (RFC 6238 TOTP) with one-time recovery codes,
required for moderators and administrators."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest

from registry.core import totp
from registry.extensions import db
from registry.models.user import AuditEvent, User

STRONG = "correct horse battery"


# The algorithm --------------------------------------------------------------------

def test_totp_matches_the_rfc_6238_test_vectors():
    """RFC 6238 appendix B (SHA-1 key "12345678901234567890"), last 6 of the 8 digits."""
    import base64

    secret = base64.b32encode(b"12345678901234567890").decode()
    for unix_time, eight in [(59, "94287082"), (1111111109, "07081804"),
                             (1234567890, "89005924"), (2000000000, "69279037"),
                             (20000000000, "65353130")]:
        assert totp.code_at(secret, unix_time) == eight[-6:]


def test_a_code_is_accepted_once_and_only_near_its_time():
    secret = totp.new_secret()
    now = 1_800_000_000
    code = totp.code_at(secret, now)
    step = totp.matching_step(secret, code, now)
    assert step == totp.step_at(now)
    assert totp.matching_step(secret, code, now + 30) == step  # the phone is a step behind
    assert totp.matching_step(secret, code, now, last_step=step) is None  # replay
    assert totp.matching_step(secret, code, now + 300) is None  # too old
    assert totp.matching_step(secret, "12345", now) is None
    assert totp.matching_step(secret, "abcdef", now) is None


def test_recovery_codes_are_kept_as_digests_and_spent_once():
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == 10
    digests = [totp.recovery_digest(c) for c in codes]
    assert not any(c in d for c in codes for d in digests)
    left = totp.use_recovery_code(digests, codes[3].upper().replace("-", " "))
    assert left is not None and len(left) == 9
    assert totp.use_recovery_code(left, codes[3]) is None


def test_the_otpauth_uri_carries_issuer_account_and_secret():
    uri = totp.provisioning_uri("ABCDEF234567", "dana@example.kz", "Tamga")
    assert uri.startswith("otpauth://totp/Tamga:dana@example.kz?")
    assert "secret=ABCDEF234567" in uri and "issuer=Tamga" in uri


# Enrolment and login --------------------------------------------------------------

def _secret_on_page(page: bytes) -> str:
    return re.search(rb'class="mono totp-secret">([A-Z2-7]+)<', page).group(1).decode()


def _codes_on_page(page: bytes) -> list[str]:
    return re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>", page.decode())


def _enrol(client) -> tuple[str, list[str]]:
    page = client.get("/account/two-factor")
    assert page.status_code == 200
    secret = _secret_on_page(page.data)
    assert b"otpauth://totp/Tamga:" in page.data
    assert b'src="data:image/svg+xml' in page.data  # the QR code, drawn here
    assert page.headers["Cache-Control"] == "no-store"
    done = client.post("/account/two-factor", data={"code": totp.code_at(secret, time.time())})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = _codes_on_page(done.data)
    assert len(codes) == 10
    return secret, codes


def _forget_last_step(app, email="aigerim@example.kz"):
    """Let the next code of the same 30-second window count (as if time had passed)."""
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email=email))
        user.totp_last_step = None
        db.session.commit()


def _login_password(client, email="aigerim@example.kz"):
    return client.post("/login", data={"email": email, "password": STRONG})


def test_enrolment_needs_a_right_first_code(client, accounts, app):
    accounts.create()
    accounts.login()
    page = client.get("/account/two-factor")
    secret = _secret_on_page(page.data)
    assert client.get("/account/two-factor").data.count(secret.encode()) >= 1  # same secret
    wrong = client.post("/account/two-factor", data={"code": "000000"
                        if totp.code_at(secret, time.time()) != "000000" else "111111"})
    assert wrong.status_code == 200 and b"not right" in wrong.data
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="aigerim@example.kz"))
        assert user.totp_enabled_at is None and user.totp_secret == secret
    ok = client.post("/account/two-factor", data={"code": totp.code_at(secret, time.time())})
    assert len(_codes_on_page(ok.data)) == 10
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="aigerim@example.kz"))
        assert user.totp_enabled_at is not None
        assert len(user.recovery_codes) == 10
        assert not set(_codes_on_page(ok.data)) & set(user.recovery_codes)  # digests only
    assert b"Two-factor sign-in is on" in client.get("/account/security").data


def test_login_asks_for_the_code_and_refuses_a_replay(app, client, accounts):
    accounts.create()
    accounts.login()
    secret, _codes = _enrol(client)
    accounts.logout()
    _forget_last_step(app)

    first = _login_password(client)
    assert first.status_code == 302 and first.headers["Location"].endswith("/login/two-factor")
    assert client.get("/account/profile").status_code == 302  # not logged in yet
    code = totp.code_at(secret, time.time())
    wrong = client.post("/login/two-factor", data={"code": "12345"})
    assert wrong.status_code == 200 and b"not right" in wrong.data
    done = client.post("/login/two-factor", data={"code": code})
    assert done.status_code == 302
    assert client.get("/account/profile").status_code == 200

    # The same code again, within its window, from another browser with the password: refused.
    thief = app.test_client()
    assert _login_password(thief).status_code == 302
    replay = thief.post("/login/two-factor", data={"code": code})
    assert replay.status_code == 200 and b"already used" in replay.data
    assert thief.get("/account/profile").status_code == 302


def test_the_second_step_needs_the_password_first(client, accounts):
    accounts.create()
    page = client.get("/login/two-factor")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert client.post("/login/two-factor", data={"code": "123456"}).status_code == 302
    assert client.get("/account/profile").status_code == 302


def test_a_recovery_code_lets_in_once_and_new_ones_replace_the_old(app, client, accounts):
    accounts.create()
    accounts.login()
    secret, codes = _enrol(client)
    accounts.logout()

    _login_password(client)
    assert client.post("/login/two-factor", data={"code": codes[0]}).status_code == 302
    assert client.get("/account/profile").status_code == 200
    accounts.logout()
    _login_password(client)
    again = client.post("/login/two-factor", data={"code": codes[0]})
    assert again.status_code == 200
    assert client.post("/login/two-factor", data={"code": codes[1].upper()}).status_code == 302

    _forget_last_step(app)
    fresh = client.post("/account/two-factor/recovery-codes",
                        data={"code": totp.code_at(secret, time.time())})
    new_codes = _codes_on_page(fresh.data)
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    accounts.logout()
    _login_password(client)
    assert client.post("/login/two-factor", data={"code": codes[2]}).status_code == 200
    assert client.post("/login/two-factor", data={"code": new_codes[0]}).status_code == 302
    with app.app_context():
        kinds = [e.action for e in db.session.scalars(db.select(AuditEvent))]
    assert kinds.count("recovery_code_used") == 3
    assert "recovery_codes_regenerated" in kinds and "two_factor_enabled" in kinds


def test_wrong_codes_are_rate_limited(app, client, accounts):
    app.config["TAMGA_TWO_FACTOR_LIMIT"] = "3 per 5 minutes"
    accounts.create()
    accounts.login()
    secret, _codes = _enrol(client)
    accounts.logout()
    _forget_last_step(app)
    _login_password(client)
    for _ in range(3):
        assert client.post("/login/two-factor", data={"code": "000000"}).status_code == 200
    # Even the right code is refused now: guessing 10^6 codes is not possible.
    blocked = client.post("/login/two-factor", data={"code": totp.code_at(secret, time.time())})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    assert client.get("/account/profile").status_code == 302
    with app.app_context():
        failures = db.session.scalars(db.select(AuditEvent).filter_by(
            action="two_factor_failed")).all()
        assert len(failures) == 3


def test_a_creator_may_turn_it_off_with_password_and_code(app, client, accounts):
    accounts.create()
    accounts.login()
    secret, _codes = _enrol(client)
    _forget_last_step(app)
    refused = client.post("/account/two-factor/disable", data={
        "password": "wrong password!", "code": totp.code_at(secret, time.time())},
        follow_redirects=True)
    assert b"password is wrong" in refused.data
    client.post("/account/two-factor/disable", data={
        "password": STRONG, "code": totp.code_at(secret, time.time())})
    accounts.logout()
    assert _login_password(client).headers["Location"].endswith("/")  # no second step



def test_new_recovery_codes_need_a_right_code(app, client, accounts):
    accounts.create()
    accounts.login()
    _secret, codes = _enrol(client)
    refused = client.post("/account/two-factor/recovery-codes", data={"code": "000000"})
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/account/security")
    page = client.get("/account/security")
    assert b"This code is not right" in page.data
    assert _codes_on_page(page.data) == []
    with app.app_context():
        kinds = [e.action for e in db.session.scalars(db.select(AuditEvent))]
    assert "two_factor_failed" in kinds and "recovery_codes_regenerated" not in kinds
    accounts.logout()
    _login_password(client)
    assert client.post("/login/two-factor", data={"code": codes[0]}).status_code == 302

# Required for moderators and administrators ----------------------------------------

@pytest.fixture
def bare_moderator(app, client):
    """A moderator made by the operator, who has not set up two-factor sign-in yet."""
    from registry.models.user import Role
    from registry.services import accounts as accounts_service

    with app.app_context():
        user = accounts_service.register_account("mod@example.kz", STRONG, "Mod",
                                                 role=Role.MODERATOR)
        accounts_service.confirm_email_now(user)
        db.session.commit()
    response = _login_password(client, "mod@example.kz")
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("path", ["/moderation/", "/moderation/attestations", "/works/",
                                  "/account/security", "/account/profile", "/account/tokens"])
def test_a_moderator_without_two_factor_is_sent_to_enrolment(bare_moderator, path):
    response = bare_moderator.get(path)
    assert response.status_code == 303, path
    assert response.headers["Location"].endswith("/account/two-factor")


def test_a_moderator_without_two_factor_cannot_act(app, bare_moderator, cast, two_pictures):
    """Opening a case from the queue is refused (no case is made) until enrolment."""
    from registry.models.dispute import Dispute

    _earlier, later = two_pictures
    cast.accounts.client = bare_moderator
    bare_moderator.post("/logout")
    _login_password(bare_moderator, "mod@example.kz")
    response = bare_moderator.post(f"/moderation/conflicts/{later}")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Dispute.id))) == 0
    secret, _codes = _enrol(bare_moderator)
    assert bare_moderator.post(f"/moderation/conflicts/{later}").status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Dispute.id))) == 1
    # Staff cannot turn it off again.
    _forget_last_step(app, "mod@example.kz")
    bare_moderator.post("/account/two-factor/disable", data={
        "password": STRONG, "code": totp.code_at(secret, time.time())})
    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(
            email="mod@example.kz")).totp_enabled_at is not None


def test_a_staff_token_without_two_factor_is_refused_by_the_api(app, runner):
    from registry.models.user import Role
    from registry.services import accounts as accounts_service
    from registry.services import tokens

    with app.app_context():
        user = accounts_service.register_account("boss@example.kz", STRONG, "Boss",
                                                 role=Role.ADMIN)
        accounts_service.confirm_email_now(user)
        secret = tokens.create_token(user, "script").secret
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    refused = client.get("/api/v1/works/TMG-0000-000000", headers=headers)
    assert refused.status_code == 403
    assert "two-factor" in refused.get_json()["error"]["message"]
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="boss@example.kz"))
        user.totp_secret, user.totp_enabled_at = totp.new_secret(), datetime.now(UTC)
        db.session.commit()
    assert client.get("/api/v1/works/TMG-0000-000000", headers=headers).status_code != 403


def test_making_a_creator_a_moderator_requires_enrolment_and_is_audited(app, client, accounts,
                                                                        runner):
    accounts.create()
    accounts.login()
    assert client.get("/works/").status_code == 200
    result = runner.invoke(args=["users", "role", "aigerim@example.kz", "moderator"])
    assert result.exit_code == 0, result.output
    assert client.get("/works/").headers["Location"].endswith("/account/two-factor")
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).filter_by(action="role_changed"))
        assert event.target == "aigerim@example.kz" and event.details == "creator -> moderator"


def test_the_operator_resets_a_lost_second_factor(app, client, accounts, runner):
    accounts.create()
    accounts.login()
    _enrol(client)
    result = runner.invoke(args=["users", "reset-2fa", "aigerim@example.kz"])
    assert result.exit_code == 0, result.output
    assert client.get("/account/profile").status_code == 302  # its sessions ended
    assert accounts.login().headers["Location"].endswith("/")  # password only now
    assert runner.invoke(args=["users", "reset-2fa", "nobody@example.kz"]).exit_code != 0


def test_a_pending_second_step_expires(app, client, accounts):
    accounts.create()
    accounts.login()
    secret, _codes = _enrol(client)
    accounts.logout()
    _forget_last_step(app)
    _login_password(client)
    with client.session_transaction() as session:
        pending = session["two_factor_pending"]
        session["two_factor_pending"] = {**pending, "at": pending["at"] - 301}
    late = client.post("/login/two-factor", data={"code": totp.code_at(secret, time.time())})
    assert late.status_code == 302 and late.headers["Location"].endswith("/login")
    assert client.get("/account/profile").status_code == 302
