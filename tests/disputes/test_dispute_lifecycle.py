"""The life cycle of a dispute through the services: open, answer or deadline, decide."""

from __future__ import annotations

import json
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest

from registry.core.errors import Conflict, PermissionDenied
from registry.core.ledger import store
from registry.extensions import db
from registry.models import DisputeKind, DisputeStatus, Outcome, WorkStatus
from registry.services import disputes, notifications
from tests.disputes.conftest import T0


def _ledger_kinds() -> list[dict]:
    conn = db.session.connection()
    size = store.latest_checkpoint(conn).tree_size
    return [json.loads(e.entry) for e in store.get_entries(conn, 0, size)]


def _outbox(app) -> list:
    folder = Path(app.config["TAMGA_OUTBOX_DIR"])
    return [message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def _open(cast, first, second, statement="I photographed this in 2019."):
    opening = disputes.Opening(DisputeKind.COPIES_REGISTRATION,
                               disputes.Submission(statement, ["https://example.kz/2019"]),
                               claimant_work=cast.work(first))
    dispute = disputes.open_dispute(cast.user("aigerim"), cast.work(second), opening, cast.ctx())
    db.session.commit()
    return dispute


def test_open_answer_decide_with_ledger_notifications_and_mail(app, cast, two_pictures):
    first, second = two_pictures
    with app.app_context():
        dispute = _open(cast, first, second)
        assert dispute.number == f"D-2026-{dispute.id:06d}"
        assert dispute.status == DisputeStatus.AWAITING_RESPONSE
        assert dispute.response_due_at == T0 + timedelta(days=14)
        cmp = dispute.comparison
        assert cmp["earlier"] == "work" and cmp["similarity"] > 0.9
        assert cmp["image"]["distances"]["phash"] <= 4
        bolat = cast.user("bolat")
        assert [n.kind for n in notifications.for_user(bolat)] == ["dispute_opened"]
        assert notifications.unread_count(bolat) == 1

        disputes.answer(bolat, dispute, disputes.Submission("I took it myself."),
                        cast.ctx(T0 + timedelta(days=2)))
        db.session.commit()
        assert dispute.status == DisputeStatus.UNDER_REVIEW
        with pytest.raises(PermissionDenied):
            disputes.decide(cast.user("aigerim"), dispute, Outcome.UPHELD, "because I say so",
                            cast.ctx())
        disputes.decide(cast.user("moder"), dispute, Outcome.UPHELD,
                        "The earlier registration and drafts show Aigerim's authorship.",
                        cast.ctx(T0 + timedelta(days=5)))
        db.session.commit()
        with pytest.raises(Conflict):
            disputes.decide(cast.user("moder"), dispute, Outcome.REJECTED, "changed my mind",
                            cast.ctx())

        entries = [e for e in _ledger_kinds() if e["kind"].startswith("dispute.")]
        assert [e["kind"] for e in entries] == ["dispute.opened", "dispute.answered",
                                                "dispute.decided"]
        assert all(e["dispute"] == dispute.number for e in entries)
        raw = json.dumps(entries, ensure_ascii=False)
        assert "photographed" not in raw and "took it myself" not in raw
        assert entries[0]["works"] == [first, second]
        assert {ev.kind for ev in dispute.events} == {"opened", "answered", "decided"}
        assert all(ev.ledger_index is not None for ev in dispute.events)
        kinds = [n.kind for n in notifications.for_user(cast.user("aigerim"))
                 if n.kind != "later_match"]  # told of Bolat's copy at registration (real time)
        assert kinds[0] == "dispute_decided" and "dispute_answered" in kinds

    subjects = [m["To"] for m in _outbox(app)]
    assert subjects.count("bolat@example.kz") >= 2 and subjects.count("aigerim@example.kz") >= 3


def test_deadline_reminder_then_moderator(app, cast, two_pictures):
    first, second = two_pictures
    with app.app_context():
        dispute = _open(cast, first, second)
        assert disputes.tick(cast.ctx(T0 + timedelta(days=5))) == (0, 0)
        assert disputes.tick(cast.ctx(T0 + timedelta(days=11, hours=1))) == (1, 0)
        assert disputes.tick(cast.ctx(T0 + timedelta(days=12))) == (0, 0)  # reminded once
        assert disputes.tick(cast.ctx(T0 + timedelta(days=14))) == (0, 1)
        db.session.commit()
        assert dispute.status == DisputeStatus.UNDER_REVIEW
        assert [e.kind for e in dispute.events] == ["opened", "reminder", "deadline_passed"]
        kinds = [n.kind for n in notifications.for_user(cast.user("bolat"))]
        assert kinds == ["dispute_deadline", "dispute_reminder", "dispute_opened"]
        with pytest.raises(Conflict):
            disputes.answer(cast.user("bolat"), dispute, disputes.Submission("late"), cast.ctx())
        conflicts, open_ = disputes.queue()
        assert open_ == [dispute]


def test_notification_mail_in_the_recipients_language(app, cast, two_pictures):
    first, second = two_pictures
    with app.app_context():
        cast.user("bolat").locale = "ru"
        _open(cast, first, second)
    mails = [m for m in _outbox(app) if m["To"] == "bolat@example.kz"]
    body = mails[-1].get_payload(decode=True).decode("utf-8")
    assert "D-2026-" in body


def test_conflict_from_registration_becomes_a_case(app, cast, two_pictures):
    first, second = two_pictures
    with app.app_context():
        work = cast.work(second)
        assert work.status == WorkStatus.CONFLICT
        conflicts, _ = disputes.queue()
        assert [w.registration_number for w in conflicts] == [second]
        with pytest.raises(PermissionDenied):
            disputes.open_conflict_case(cast.user("stranger"), work, cast.ctx())
        case = disputes.open_conflict_case(cast.user("moder"), work, cast.ctx())
        assert case.claimant_id == cast.ids["aigerim"] and case.respondent_id == cast.ids["bolat"]
        disputes.decide(cast.user("moder"), case, Outcome.REJECTED,
                        "Both pictures come from the same public-domain source.", cast.ctx())
        db.session.commit()
        assert work.status == WorkStatus.REGISTERED
        assert disputes.queue() == ([], [])
