"""Co-authors confirm (issue 20): invitations, answers in the ledger, the work page and
certificate showing who confirmed, and the authorship dispute."""

from __future__ import annotations

import email
import io
import json
import re
from email import policy
from pathlib import Path

import pytest
from flask_babel import refresh
from pypdf import PdfReader

from registry.core.ledger import store
from registry.extensions import db
from registry.models import CoAuthorInvitation, Dispute, InvitationStatus, Notification, WorkStatus


def _mails(app, to: str) -> list:
    folder = Path(app.config["TAMGA_OUTBOX_DIR"])
    found = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
             for p in sorted(folder.glob("*.eml"))]
    return [m for m in found if m["To"] == to]


def _with_coauthor(email_address: str = "bolat@example.kz", share: str = "40") -> dict:
    return {"authors-0-full_name": "Aigerim Seitova", "authors-0-role": "photographer",
            "authors-0-share": str(100 - int(share)),
            "authors-1-full_name": "Bolat Nurov", "authors-1-role": "editor",
            "authors-1-share": share, "authors-1-email": email_address}


def _invitation(number: str) -> CoAuthorInvitation:
    db.session.expire_all()
    return db.session.scalar(db.select(CoAuthorInvitation).join(CoAuthorInvitation.work)
                             .where(CoAuthorInvitation.work.has(registration_number=number))
                             .order_by(CoAuthorInvitation.id.desc()))


def _entry(index: int) -> dict:
    [row] = store.get_entries(db.session.connection(), index, index + 1)
    return json.loads(row.entry)


def _page(client, path: str, lang: str = "en") -> str:
    refresh()  # the test's app context would keep the first request's language
    return client.get(path, environ_overrides={"HTTP_ACCEPT_LANGUAGE": lang}).get_data(as_text=True)


def _pdf_text(data: bytes) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_a_coauthor_named_at_registration_confirms(app, cast, media):
    bolat = cast.user("bolat")
    bolat.locale = "ru"
    db.session.commit()
    number = cast.register("aigerim", media.picture(31), "Two of us", **_with_coauthor())
    inv = _invitation(number)
    assert (inv.status, inv.position, inv.role, inv.email) == (
        InvitationStatus.PENDING, 1, "editor", "bolat@example.kz")
    assert inv.user_id == cast.ids["bolat"] and str(inv.share) == "40.00"
    note = db.session.scalar(db.select(Notification).filter_by(
        user_id=cast.ids["bolat"], kind="coauthor_invited"))
    assert note.link == f"/coauthors/{inv.id}" and note.params["share"] == "40"
    [mail] = _mails(app, "bolat@example.kz")
    assert "назвал(а) вас автором" in mail.get_content()  # in Bolat's language
    client = cast.accounts.client
    assert "confirmation pending" in _page(client, f"/w/{number}")

    cast.login("bolat")
    page = _page(client, f"/coauthors/{inv.id}")
    assert "Bolat Nurov" in page and "Редактор" in page and "40" in page  # his language
    assert number in _page(client, "/coauthors/")
    response = client.post(f"/coauthors/{inv.id}/confirm", data={})
    assert response.status_code == 302
    inv = _invitation(number)
    assert inv.status == InvitationStatus.CONFIRMED and inv.responded_at is not None
    entry = _entry(inv.ledger_index)
    assert entry["kind"] == "work.coauthor_confirmed"
    assert entry["registration_number"] == number and entry["share_basis_points"] == 4000
    assert entry["role"] == "editor" and entry["author_position"] == 1
    assert entry["coauthor_commitment"].startswith("hmac-sha256:")
    assert "bolat" not in json.dumps(entry).lower()  # no account, name or e-mail
    # ...but Bolat can prove it is his, offline, with his ledger secret.
    from registry.core.tamga_verify import check_account

    secret = cast.user("bolat").ledger_secret
    [check] = check_account([entry], f"{cast.ids['bolat']}:{secret}")
    assert check.ok and "coauthor of work.coauthor_confirmed" in check.detail
    assert not check_account([entry], f"{cast.ids['aigerim']}:{secret}")[0].ok
    assert db.session.scalar(db.select(Notification).filter_by(
        user_id=cast.ids["aigerim"], kind="coauthor_confirmed")) is not None

    cast.accounts.logout()
    public = _page(client, f"/w/{number}")
    assert "✓ confirmed" in public and "confirmation pending" not in public
    assert "✓ подтверждено" in _page(client, f"/w/{number}", "ru")
    pdf = _pdf_text(client.get(f"/w/{number}/certificate.pdf?lang=en").data)
    assert f"confirmed {inv.responded_at.date().isoformat()}" in pdf
    data = client.get(f"/w/{number}/certificate.pdf?lang=kk+ru").data
    assert "растады" in _pdf_text(data) and "подтверждено" in _pdf_text(data)
    assert len(PdfReader(io.BytesIO(data)).pages) == 1  # the answer fits on the one page

    record = client.get(f"/api/v1/works/{number}").get_json()
    assert record["authors"][0]["confirmation"] is None  # the registrant was not asked
    assert record["authors"][1]["confirmation"] == {
        "status": "confirmed", "ledger_index": inv.ledger_index,
        "at": inv.responded_at.strftime("%Y-%m-%dT%H:%M:%SZ")}

    cast.login("bolat")  # answered once: a second answer is refused
    assert client.post(f"/coauthors/{inv.id}/decline", data={}).status_code == 409


def test_an_invitee_without_an_account_gets_mail_in_the_inviters_language(app, cast, media,
                                                                          accounts):
    number = cast.register("aigerim", media.picture(32), "Solo at first")
    client = cast.accounts.client
    refresh()
    response = client.post(f"/works/{number}/coauthors", data={
        "author": "0", "email": "newbie@example.kz"}, environ_overrides={
        "HTTP_ACCEPT_LANGUAGE": "kk"})
    assert response.status_code == 302
    # The only author is the registrant, but she may ask someone listed under her name.
    inv = _invitation(number)
    assert inv.user_id is None and inv.locale == "kk"
    [mail] = _mails(app, "newbie@example.kz")
    assert f"/coauthors/{inv.id}" in mail.get_content()
    assert "авторлыққа" in mail["Subject"] or "авторлығыңызды" in mail["Subject"]

    cast.login("stranger")  # only the invited e-mail can open it
    assert client.get(f"/coauthors/{inv.id}").status_code == 404
    assert client.post(f"/coauthors/{inv.id}/confirm", data={}).status_code == 404
    db.session.commit()  # end the test's read so the new account can be written
    accounts.create("newbie@example.kz", name="Newbie", confirmed=False)
    from registry.core.errors import PermissionDenied
    from registry.models import User
    from registry.services import accounts as account_service
    from registry.services import coauthors

    newbie = db.session.scalar(db.select(User).filter_by(email="newbie@example.kz"))
    ctx = coauthors.Context(cast.ctx().settings, None, cast.ctx().now)
    with pytest.raises(PermissionDenied):  # an unconfirmed address proves nothing
        coauthors.respond(newbie, _invitation(number), True, "", ctx)
    db.session.rollback()
    assert _invitation(number).status == InvitationStatus.PENDING
    account_service.confirm_email_now(db.session.get(User, newbie.id))
    db.session.commit()
    accounts.logout()
    accounts.login("newbie@example.kz")
    assert client.post(f"/coauthors/{inv.id}/confirm", data={}).status_code == 302
    inv = _invitation(number)
    assert inv.status == InvitationStatus.CONFIRMED and inv.user_id == newbie.id


def test_invitations_are_refused_with_a_reason(app, cast, media):
    number = cast.register("aigerim", media.picture(33), "Refusals", **_with_coauthor())
    client = cast.accounts.client
    before = db.session.scalar(db.select(db.func.count(CoAuthorInvitation.id)))
    for data in ({"author": "1", "email": "aigerim@example.kz"},   # herself
                 {"author": "1", "email": "not an address"},
                 {"author": "7", "email": "x@example.kz"},         # no such author
                 {"author": "1", "email": "bolat@example.kz"}):    # already invited
        response = client.post(f"/works/{number}/coauthors", data=data,
                               follow_redirects=True)
        assert response.status_code == 200
        assert 'class="flash flash-error"' in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(CoAuthorInvitation.id))) == before
    cast.login("bolat")  # not the owner
    assert client.post(f"/works/{number}/coauthors",
                       data={"author": "1", "email": "x@example.kz"}).status_code == 403


def test_changing_the_authors_withdraws_a_stale_invitation(app, cast, media):
    number = cast.register("aigerim", media.picture(34), "Shares move", **_with_coauthor())
    data = {"title": "Shares move", "work_type": "photograph", "language": "kk",
            "country": "KZ", "registrant_capacity": "author", "creation": "2025",
            "ai_use": "none", "licence": "all-rights-reserved", "visibility": "public",
            "allow_thumbnail": "y", "ai_training_opt_out": "y", "note": "shares",
            **_with_coauthor(share="30")}
    data.pop("authors-1-email")
    response = cast.accounts.client.post(f"/works/{number}/edit", data=data)
    assert response.status_code == 302
    assert _invitation(number).status == InvitationStatus.WITHDRAWN
    assert "confirmation pending" not in _page(cast.accounts.client, f"/w/{number}")


def test_a_declining_coauthor_opens_an_authorship_dispute(app, cast, media):
    number = cast.register("aigerim", media.picture(35), "Whose share", **_with_coauthor())
    inv = _invitation(number)
    cast.login("bolat")
    client = cast.accounts.client
    response = client.post(f"/coauthors/{inv.id}/decline",
                           data={"note": "I edited all of it; my share is 60%."})
    assert response.status_code == 302
    inv = _invitation(number)
    assert inv.status == InvitationStatus.DECLINED and inv.note.startswith("I edited")
    assert _entry(inv.ledger_index)["kind"] == "work.coauthor_declined"
    assert "declined" in _page(client, f"/w/{number}")
    assert "kind=authorship" in _page(client, f"/coauthors/{inv.id}")

    form = _page(client, f"/disputes/new/{number}?kind=authorship")
    assert re.search(r'<input checked[^>]*value="authorship"', form)
    empty = client.post(f"/disputes/new/{number}", data={"kind": "authorship"})
    assert empty.status_code == 422
    assert "what your part in the work was" in empty.get_data(as_text=True)
    response = client.post(f"/disputes/new/{number}", data={
        "kind": "authorship", "statement": "I edited every photograph of the series."})
    assert response.status_code == 302
    dispute = db.session.scalar(db.select(Dispute).filter_by(kind="authorship"))
    assert dispute.respondent_id == cast.ids["aigerim"]
    assert dispute.claimant_id == cast.ids["bolat"] and dispute.comparison == {}
    shown = client.get(f"/disputes/{dispute.id}")
    assert shown.status_code == 200
    assert "The authors listed in this registration are disputed" in shown.get_data(as_text=True)
    assert client.get(f"/disputes/{dispute.id}/evidence.zip").status_code == 200
    opened = _entry(dispute.events[0].ledger_index)
    assert opened["dispute_kind"] == "authorship" and opened["authorship_claim"] == "named"
    assert db.session.scalar(db.select(Notification).filter_by(
        user_id=cast.ids["aigerim"], kind="dispute_opened")) is not None

    from registry.services import disputes

    disputes.decide(cast.user("moder"), dispute, disputes.Outcome.UPHELD,
                    "The editor's share is 60%; the owner is to amend.", cast.ctx())
    db.session.commit()
    # An authorship decision settles who made it, not whether it is registered.
    assert cast.work(number).status == WorkStatus.REGISTERED
    assert _entry(dispute.events[-1].ledger_index)["registrations"] == []


def test_someone_left_out_can_claim_authorship_but_not_the_owner(app, cast, media):
    number = cast.register("aigerim", media.picture(36), "Left out")
    client = cast.accounts.client
    own = client.post(f"/disputes/new/{number}", data={
        "kind": "authorship", "statement": "My own work."})
    assert own.status_code == 422
    cast.login("stranger")
    assert "kind=authorship" in _page(client, f"/w/{number}")
    response = client.post(f"/disputes/new/{number}", data={
        "kind": "authorship", "statement": "I took this photograph, not the registrant."})
    assert response.status_code == 302
    dispute = db.session.scalar(db.select(Dispute).filter_by(kind="authorship"))
    assert _entry(dispute.events[0].ledger_index)["authorship_claim"] == "left_out"
    # It does not take a registration conflict out of the moderators' queue.
    from registry.services import disputes

    assert dispute in disputes.queue()[1]


@pytest.mark.parametrize("answer", ["confirm", "decline"])
def test_a_withdrawn_invitation_cannot_be_answered(app, cast, media, answer):
    number = cast.register("aigerim", media.picture(37), "Changed mind", **_with_coauthor())
    first = _invitation(number)
    client = cast.accounts.client
    assert client.post(f"/works/{number}/coauthors",
                       data={"author": "1", "email": "stranger@example.kz"}).status_code == 302
    assert db.session.get(CoAuthorInvitation, first.id).status == InvitationStatus.WITHDRAWN
    cast.login("bolat")
    assert client.post(f"/coauthors/{first.id}/{answer}", data={}).status_code == 409
