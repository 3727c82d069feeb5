"""Issue 12, item 5: ``javascript:`` and ``data:`` URLs typed into a dispute's links became
clickable on the moderator's page. Only http(s) links are accepted, and only they are
rendered as links (also for rows stored before the fix)."""

from __future__ import annotations

import pytest

from registry.extensions import db
from registry.models import DisputeEvidence, DisputeKind
from registry.services import disputes

HOSTILE = ["javascript:alert(document.cookie)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x",
           " javascript:alert(1)", "vbscript:msgbox", "java\tscript:alert(1)", "//evil.example",
           "http://", "https:///x"]


@pytest.fixture
def open_case(app, cast, two_pictures):
    first, second = two_pictures
    with app.app_context():
        opening = disputes.Opening(DisputeKind.COPIES_REGISTRATION, disputes.Submission("x"),
                                   claimant_work=cast.work(first))
        dispute = disputes.open_dispute(cast.user("aigerim"), cast.work(second), opening,
                                        cast.ctx())
        db.session.commit()
        return dispute.id


@pytest.mark.parametrize("link", HOSTILE)
def test_only_web_links_count(link):
    assert not disputes.is_web_link(link)
    with pytest.raises(disputes.ValidationFailed):
        disputes.check_links(["https://ok.example/a", link])


def test_hostile_links_are_refused_then_web_links_accepted_and_clickable(cast, open_case):
    cast.login("aigerim")
    for link in HOSTILE:
        response = cast.accounts.client.post(f"/disputes/{open_case}/evidence",
                                             data={"links": f"https://ok.example/a\n{link}"})
        assert response.status_code == 422, link
        assert "http://" in response.get_data(as_text=True)
    cast.login("moder")
    page = cast.accounts.client.get(f"/disputes/{open_case}").get_data(as_text=True)
    assert "ok.example" not in page  # nothing of a refused submission was stored
    cast.login("aigerim")
    response = cast.accounts.client.post(f"/disputes/{open_case}/evidence", data={
        "links": "https://youtu.be/abc\nhttp://example.kz/first"})
    assert response.status_code == 302
    cast.login("moder")
    page = cast.accounts.client.get(f"/disputes/{open_case}").get_data(as_text=True)
    assert 'href="https://youtu.be/abc"' in page and 'href="http://example.kz/first"' in page


def test_a_stored_hostile_link_is_shown_as_text(app, cast, open_case):
    with app.app_context():
        dispute = disputes.get_dispute(open_case)
        dispute.evidence.append(DisputeEvidence(
            party=disputes.Party.CLAIMANT, submitted_by_id=cast.ids["aigerim"], kind="link",
            url="javascript:alert(1)", sha256="0" * 64, size=19, created_at=disputes.utc()))
        db.session.commit()
    cast.login("moder")
    page = cast.accounts.client.get(f"/disputes/{open_case}").get_data(as_text=True)
    assert "javascript:alert(1)" in page and 'href="javascript:' not in page


def test_found_url_must_be_a_web_address(app, cast, two_pictures):
    first, _ = two_pictures
    with app.app_context(), pytest.raises(disputes.ValidationFailed):
        disputes.open_dispute(cast.user("aigerim"), cast.work(first), disputes.Opening(
            DisputeKind.EXTERNAL_COPY, found_url="javascript:alert(1)"), cast.ctx())
