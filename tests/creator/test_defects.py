"""The defects found when Tamga was tried as a new creator would (issue 20)."""

from __future__ import annotations

import email
import re
import zipfile
from datetime import UTC, datetime, timedelta
from email import policy
from io import BytesIO
from pathlib import Path

from flask_babel import force_locale, refresh

from registry.core.dates import format_moment
from registry.extensions import db
from registry.models import Dispute, User, Work
from registry.services.mail import Mailer, MailSettings
from tests.registration import post_form

# -- the author role follows the kind of work ------------------------------------------------


def test_the_form_offers_only_roles_that_fit_the_kind_of_work(cast, media):
    cast.login("aigerim")
    client = cast.accounts.client
    page = client.get("/works/new").get_data(as_text=True)
    role_select = page.split('id="authors-0-role"')[1].split("</select>")[0]
    assert 'selected value="composer"' in role_select  # default kind: musical work
    assert 'value="photographer"' not in role_select
    # A photograph with the composer role is refused with a clear message, and the
    # form comes back offering the photograph's roles.
    refused = post_form(client, media.picture(2), **{"authors-0-role": "composer"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "does not fit this kind of work" in body
    roles = body.split('id="authors-0-role"')[1].split("</select>")[0]
    assert 'value="photographer"' in roles and 'value="composer"' not in roles
    # The page's script gets the fitting roles of every kind.
    assert "data-roles='" in body and '"photograph": [["photographer"' in body


def test_a_photograph_registered_with_its_default_role_says_photographer(cast, media):
    cast.login("aigerim")
    client = cast.accounts.client
    ok = post_form(client, media.picture(2))
    assert ok.status_code == 302
    work = cast.work(ok.headers["Location"].rsplit("/", 1)[-1])
    assert [a.role for a in work.authors] == ["photographer"]


def test_the_api_refuses_a_role_that_does_not_fit(cast, media):
    from registry.core.errors import ValidationFailed
    from registry.models.work import WorkType
    from registry.services.work_metadata import AuthorInput, WorkMetadata, validate_metadata

    meta = WorkMetadata(title="Photo", work_type=WorkType.PHOTOGRAPH,
                        authors=[AuthorInput("A", "composer", 100)])
    try:
        validate_metadata(meta)
    except ValidationFailed as exc:
        assert exc.details["field"] == "authors"
    else:
        raise AssertionError("a composer of a photograph was accepted")


# -- the dispute forms keep what was typed ------------------------------------------------------


def test_the_dispute_form_re_renders_with_the_message_and_every_field(cast, two_pictures):
    first, second = two_pictures
    cast.login("aigerim")
    response = cast.accounts.client.post(f"/disputes/new/{second}", data={
        "kind": "copies_registration", "found_url": "https://insta.example/p/42",
        "found_platform": "Instagram", "found_on": "2026-10-01", "links": "",
    }, content_type="multipart/form-data")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Point to your earlier registration, or give your evidence." in body
    assert 'value="https://insta.example/p/42"' in body and 'value="Instagram"' in body
    assert 'value="2026-10-01"' in body
    assert 'id="registration-form"' not in body and "<form" in body
    assert db.session.scalar(db.select(Dispute)) is None


def test_an_empty_answer_re_renders_the_dispute_page_with_the_message(cast, two_pictures):
    first, second = two_pictures
    cast.login("aigerim")
    cast.accounts.client.post(f"/disputes/new/{second}", data={
        "kind": "copies_registration", "claimant_work": first, "statement": "Mine since 2019."})
    dispute = db.session.scalar(db.select(Dispute))
    cast.login("bolat")
    client = cast.accounts.client
    empty = client.post(f"/disputes/{dispute.id}/answer", data={"statement": "  ", "links": ""})
    assert empty.status_code == 422
    assert "Write a statement or give evidence." in empty.get_data(as_text=True)
    too_long = "Менің жауабым: " + "ә" * 20001
    response = client.post(f"/disputes/{dispute.id}/answer",
                           data={"statement": too_long, "links": "https://kept.example/1"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert too_long in body and "https://kept.example/1" in body
    assert f"Dispute {dispute.number}" in body
    assert db.session.get(Dispute, dispute.id).status.value == "awaiting_response"


# -- "my earlier registration" offers only earlier ones --------------------------------------


def test_only_earlier_registrations_are_offered_and_a_later_one_is_refused(cast, media,
                                                                          two_pictures):
    first, second = two_pictures
    later = cast.register("aigerim", media.picture(9), "Later picture")
    page = cast.accounts.client.get(f"/disputes/new/{second}").get_data(as_text=True)
    options = page.split('id="claimant_work"')[1].split("</select>")[0]
    assert first in options and later not in options
    assert "1 of your registrations is later than" in page
    response = cast.accounts.client.post(f"/disputes/new/{second}", data={
        "kind": "copies_registration", "claimant_work": later, "statement": "x" * 20})
    assert response.status_code == 422
    assert f"Your registration {later} is later than {second}" in response.get_data(as_text=True)


# -- one date formatter ------------------------------------------------------------------------


def test_a_deadline_reads_the_same_in_the_notification_the_mail_and_the_dispute_page(
        app, cast, two_pictures):
    first, second = two_pictures
    cast.login("aigerim")
    cast.accounts.client.post(f"/disputes/new/{second}", data={
        "kind": "copies_registration", "claimant_work": first, "statement": "Mine since 2019."})
    dispute = db.session.scalar(db.select(Dispute))
    bolat = cast.user("bolat")
    bolat.locale = "kk"
    db.session.commit()
    due = format_moment(dispute.response_due_at, "kk", "Asia/Almaty", "long")
    assert "(UTC+5)" in due
    cast.login("bolat")
    client = cast.accounts.client
    client.post("/language", data={"lang": "kk", "next": "/"})
    refresh()  # requests share this test's app context, where Babel caches the locale
    notes = client.get("/notifications/").get_data(as_text=True)
    page = client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    assert due in notes and due in page
    assert "UTC</" not in notes and "+0500" not in page
    # The comparison panel shows the registration times formatted, never raw RFC 3339.
    panel = re.sub(r'datetime="[^"]*"', "", page.split("dispute-comparison")[1])
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", panel)
    outbox = sorted(Path(app.config["TAMGA_OUTBOX_DIR"]).glob("*.eml"))
    mails = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in outbox]
    to_bolat = [m for m in mails if m["To"] == "bolat@example.kz"]
    assert due in to_bolat[-1].get_content()


def test_format_moment_uses_the_viewers_zone_and_language():
    moment = datetime(2026, 12, 13, 20, 23, tzinfo=UTC)
    assert _plain(format_moment(moment, "ru", "Asia/Almaty", "long")) == \
        "14 декабря 2026 г., 01:23 (UTC+5)"
    assert format_moment("2026-12-13T20:23:00.000001Z", "en", "UTC", "long") == \
        "December 13, 2026, 20:23 (UTC)"
    assert "желтоқсан" in format_moment(moment, "kk", "Asia/Almaty")


def _plain(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


# -- e-mail headers ----------------------------------------------------------------------------


def test_long_kazakh_and_russian_subjects_survive_folding(tmp_path):
    mailer = Mailer(MailSettings(sender="Tamga <no-reply@tamga.kz>", outbox_dir=tmp_path))
    subjects = [
        "Tamga: KZ-2026-000001 тіркеуіңізге қатысты D-2026-000001 дауы ашылды. Сіз түсініктеме "
        "мен дәлелдемелер ұсына отырып жауап бере аласыз",
        "Tamga: Напоминание: срок ответа по спору D-2026-000001 истекает 14 декабря 2026 г., "
        "после этого модератор решит по имеющимся доказательствам",
    ]
    for subject in subjects:
        delivery = mailer.send("a@example.kz", subject, "Сәлем!\nТело письма.")
        raw = delivery.outbox_path.read_bytes()
        assert max(len(line) for line in raw.split(b"\n")) <= 78
        parsed = email.message_from_bytes(raw, policy=policy.default)
        assert parsed["Subject"] == subject
        assert parsed.get_content().rstrip("\n") == "Сәлем!\nТело письма."
        delivery.outbox_path.unlink()


# -- small things ------------------------------------------------------------------------------


def test_file_sizes_are_localised(app):
    from registry.i18n import filesize

    with app.test_request_context():
        with force_locale("ru"):
            assert filesize(1536).replace("\xa0", " ") == "1,5 КБ"
            assert filesize(200 * 1024 * 1024).replace("\xa0", " ") == "200 МБ"
        with force_locale("kk"):
            assert filesize(900) == "900 байт"
        with force_locale("en"):
            assert filesize(3 * 1024 * 1024 + 300_000) == "3.3 MB"


def test_the_public_link_row_has_no_stray_separator(cast, media):
    cast.login("aigerim")
    ok = post_form(cast.accounts.client, media.picture(4))
    number = ok.headers["Location"].rsplit("/", 1)[-1]
    page = cast.accounts.client.get(f"/w/{number}").get_data(as_text=True)
    row = page.split("Certificate (PDF)")[0].rsplit("<p>", 1)[1]
    assert row.strip() == ""  # the row starts with the certificate, not with "·"


def test_the_evidence_readme_uses_the_interfaces_term(cast, two_pictures):
    first, second = two_pictures
    cast.login("aigerim")
    data = cast.accounts.client.get(f"/w/{first}/certificate.pdf")
    assert data.status_code == 200
    from registry.core import evidence as core_evidence

    text = core_evidence.readme(first).decode("utf-8")  # its texts live in the catalogues
    assert "саусақ" not in text and "цифрлық із" in text
    cast.login("aigerim")
    cast.accounts.client.post(f"/disputes/new/{second}", data={
        "kind": "copies_registration", "claimant_work": first, "statement": "Mine since 2019."})
    dispute = db.session.scalar(db.select(Dispute))
    bundle = cast.accounts.client.get(f"/disputes/{dispute.id}/evidence.zip?lang=kk")
    with zipfile.ZipFile(BytesIO(bundle.data)) as archive:
        readme = next(archive.read(n).decode() for n in archive.namelist()
                      if n.upper().startswith("README"))
    assert "цифрлық із" in readme and "саусақ" not in readme


def test_a_kazakh_iin_sets_the_country_to_kazakhstan(app, cast):
    cast.login("aigerim")
    response = cast.accounts.client.post("/account/profile", data={
        "display_name": "Aigerim", "country": "", "iin": "900101300126", "locale": "kk",
        "timezone": "Asia/Almaty", "match_emails": "immediate"})
    assert response.status_code == 302, response.data[:400]
    assert cast.user("aigerim").country == "KZ"
    page = cast.accounts.client.get("/account/profile").get_data(as_text=True)
    assert "js/profile.js" in page


def test_search_landmarks_are_unique_and_pages_have_descriptions(cast, client):
    page = client.get("/search?q=dombra").get_data(as_text=True)
    labels = re.findall(r'role="search" aria-label="([^"]+)"', page)
    assert len(labels) == 2 and len(set(labels)) == 2
    assert page.count('role="search"') == 2
    for path in ("/", "/search", "/lookup", "/verify", "/login", "/signup"):
        html = client.get(path).get_data(as_text=True)
        match = re.search(r'<meta name="description" content="([^"]+)">', html)
        assert match and len(match.group(1)) > 40, path
    assert "Title, author, number" in client.get("/").get_data(as_text=True)


def test_nothing_written_twice_in_notifications_after_deadlines(app, cast, two_pictures):
    """The reminder carries the deadline as data: the reader's page writes it."""
    first, second = two_pictures
    cast.login("aigerim")
    cast.accounts.client.post(f"/disputes/new/{second}", data={
        "kind": "copies_registration", "claimant_work": first, "statement": "Mine since 2019."})
    dispute = db.session.scalar(db.select(Dispute))
    from registry.models.notification import Notification

    note = db.session.scalar(db.select(Notification).filter_by(kind="dispute_opened"))
    assert note.params["due"].endswith("Z") and "T" in note.params["due"]
    assert datetime.fromisoformat(note.params["due"].replace("Z", "+00:00")) - \
        dispute.response_due_at < timedelta(seconds=1)
    assert isinstance(db.session.get(User, cast.ids["bolat"]), User)
    assert db.session.scalar(db.select(Work).filter_by(registration_number=second))
