"""Disputes settle conflicts: the decision updates the registrations, leaves the queue,
shows on both public pages and is written to the ledger (issue 20)."""

from __future__ import annotations

import json

import pytest

from registry.core.ledger import store
from registry.extensions import db
from registry.models import DisputeKind, Outcome, WorkStatus
from registry.services import disputes


def _decided_entry() -> dict:
    conn = db.session.connection()
    size = store.latest_checkpoint(conn).tree_size
    entries = [json.loads(e.entry) for e in store.get_entries(conn, 0, size)]
    return [e for e in entries if e["kind"] == "dispute.decided"][-1]


def _open(cast, first, second):
    opening = disputes.Opening(DisputeKind.COPIES_REGISTRATION,
                               disputes.Submission("I photographed this in 2019.", []),
                               claimant_work=cast.work(first))
    dispute = disputes.open_dispute(cast.user("aigerim"), cast.work(second), opening, cast.ctx())
    db.session.commit()
    return dispute


@pytest.mark.parametrize(("outcome", "status"), [
    (Outcome.UPHELD, WorkStatus.WITHDRAWN),
    (Outcome.REJECTED, WorkStatus.REGISTERED),
    (Outcome.SETTLED, WorkStatus.REGISTERED),
    (Outcome.REFERRED_TO_COURT, WorkStatus.CONFLICT),
])
def test_a_decided_dispute_settles_the_conflict(cast, two_pictures, outcome, status):
    first, second = two_pictures
    assert cast.work(second).status == WorkStatus.CONFLICT
    assert [w.registration_number for w in disputes.queue()[0]] == [second]
    dispute = _open(cast, first, second)
    assert disputes.queue()[0] == []  # the open dispute is listed instead
    disputes.decide(cast.user("moder"), dispute, outcome,
                    "The moderator compared both files and the drafts.", cast.ctx())
    db.session.commit()
    assert cast.work(second).status == status
    assert cast.work(first).status == WorkStatus.REGISTERED
    assert disputes.queue() == ([], [])
    changed = [] if status == WorkStatus.CONFLICT else [
        {"registration_number": second, "from": "conflict", "to": status.value}]
    assert _decided_entry()["registrations"] == changed

    client = cast.accounts.client
    later_page = client.get(f"/w/{second}").get_data(as_text=True)
    earlier_page = client.get(f"/w/{first}").get_data(as_text=True)
    label = str(disputes.OUTCOME_LABELS[outcome.value])
    assert label in later_page and label in earlier_page
    assert dispute.number in later_page and dispute.number in earlier_page
    assert "it is under review" not in later_page
    if outcome == Outcome.UPHELD:
        assert f"withdrawn by the decision of dispute {dispute.number}" in later_page
        assert "withdrawn by its owner" not in later_page


def test_an_upheld_claim_about_a_file_outside_tamga_changes_no_registration(cast, media):
    number = cast.register("aigerim", media.picture(41), "Mine")
    opening = disputes.Opening(DisputeKind.EXTERNAL_COPY, disputes.Submission("Seen online.", []),
                               disputed_file=disputes.Upload(media.picture(41).open("rb"),
                                                             "copy.jpg"))
    dispute = disputes.open_dispute(cast.user("aigerim"), cast.work(number), opening, cast.ctx())
    opening.disputed_file.stream.close()
    disputes.decide(cast.user("moder"), dispute, Outcome.UPHELD,
                    "The file out there is a copy of this work.", cast.ctx())
    db.session.commit()
    assert cast.work(number).status == WorkStatus.REGISTERED
