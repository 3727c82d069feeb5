"""Hear about every copy: the earlier registrant is told when a later registration matches."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from PIL import Image

from registry.extensions import db
from registry.models.notification import Notification
from registry.models.user import MatchEmails


def _mails(app, to: str) -> list:
    folder = Path(app.config["TAMGA_OUTBOX_DIR"])
    found = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
             for p in sorted(folder.glob("*.eml"))]
    return [m for m in found if m["To"] == to]


def _copy(media, tmp_path, seed: int) -> tuple[Path, Path]:
    original = media.picture(seed)
    copy = tmp_path / f"copy-{seed}.png"
    Image.open(original).save(copy, "PNG")
    return original, copy


def test_the_earlier_owner_is_told_at_once_in_their_language(app, cast, media, tmp_path):
    aigerim = cast.user("aigerim")
    aigerim.locale = "ru"
    db.session.commit()
    original, copy = _copy(media, tmp_path, 21)
    first = cast.register("aigerim", original, "Steppe at noon")
    assert _mails(app, "aigerim@example.kz") == []
    second = cast.register("bolat", copy, "My steppe")

    notes = db.session.scalars(db.select(Notification).filter_by(
        user_id=cast.ids["aigerim"], kind="later_match")).all()
    assert len(notes) == 1
    note = notes[0]
    assert note.params["work"] == first and note.params["later"] == second
    assert note.params["links"] == {"compare": f"/works/{first}/later/{second}",
                                    "dispute": f"/disputes/new/{second}"}
    assert not note.mail_pending
    [mail] = _mails(app, "aigerim@example.kz")
    body = mail.get_content()
    assert "Более поздняя регистрация" in mail["Subject"]
    assert f"/works/{first}/later/{second}" in body and f"/disputes/new/{second}" in body
    assert "Открыть спор" in body
    # Nobody else heard about it: Bolat's own registration is the later one.
    assert db.session.scalar(db.select(Notification).filter_by(
        user_id=cast.ids["bolat"], kind="later_match")) is None

    cast.login("aigerim")
    client = cast.accounts.client
    inbox = client.get("/notifications/").get_data(as_text=True)
    assert f'href="/works/{first}/later/{second}"' in inbox
    assert f'href="/disputes/new/{second}"' in inbox
    owner_page = client.get(f"/works/{first}").get_data(as_text=True)
    section = owner_page.split("later-matches")[1]
    assert second in section and "conflict" in section
    compare = client.get(f"/works/{first}/later/{second}")
    assert compare.status_code == 200
    page = compare.get_data(as_text=True)
    assert "dispute-comparison" in page and f"/disputes/new/{second}" in page
    cast.login("stranger")
    assert cast.accounts.client.get(f"/works/{first}/later/{second}").status_code == 403


def test_own_later_copies_and_unrelated_works_tell_nobody(app, cast, media, tmp_path):
    original, copy = _copy(media, tmp_path, 22)
    cast.register("aigerim", original, "Mine")
    cast.register("aigerim", copy, "Mine again")
    cast.register("bolat", media.picture(23), "Something else")
    assert db.session.scalar(db.select(Notification).filter_by(kind="later_match")) is None


def test_a_daily_digest_instead_of_one_mail_per_match(app, cast, media, tmp_path, runner):
    aigerim = cast.user("aigerim")
    aigerim.match_emails = MatchEmails.DAILY
    db.session.commit()
    for seed in (24, 25):
        original, copy = _copy(media, tmp_path, seed)
        cast.register("aigerim", original, f"Picture {seed}")
        cast.register("bolat", copy, f"Copy {seed}")
    assert _mails(app, "aigerim@example.kz") == []
    pending = db.session.scalars(db.select(Notification).filter_by(mail_pending=True)).all()
    assert len(pending) == 2
    result = runner.invoke(args=["notifications", "digest"])
    assert result.exit_code == 0 and "digests sent: 1" in result.output
    [digest] = _mails(app, "aigerim@example.kz")
    assert "2" in digest["Subject"]
    assert digest.get_content().count("/later/") == 2
    again = runner.invoke(args=["notifications", "digest"])
    assert "digests sent: 0" in again.output


def test_the_digest_setting_is_on_the_profile(app, cast):
    cast.login("aigerim")
    client = cast.accounts.client
    page = client.get("/account/profile").get_data(as_text=True)
    assert 'name="match_emails"' in page
    response = client.post("/account/profile", data={
        "display_name": "Aigerim", "country": "KZ", "locale": "en", "timezone": "Asia/Almaty",
        "match_emails": "daily"})
    assert response.status_code == 302
    assert cast.user("aigerim").match_emails == MatchEmails.DAILY
