"""Signed receipts at submission (issue 13, item 3): the 201 of the API and the work page
carry a receipt signed with the ledger key; ``tamga-verify RECEIPT.json`` checks it
offline and, with a later proof, that the promise was kept; ``flask ledger monitor``
reports any receipt not honoured in time."""

from __future__ import annotations

import copy
import json
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from registry.core.tamga_verify import main as tamga_verify
from registry.core.tamga_verify import verify_receipt
from tests.registration import post_api, register_form, run_jobs


@contextmanager
def _serving(folder):
    """A plain HTTP server of the test's own, on a free port, serving ``folder``."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _vkeys(app) -> list[str]:
    return app.extensions["tamga.settings"].keyring.vkeys()


def test_the_201_carries_a_signed_receipt_that_verifies_offline(client, app, api_account,
                                                                  media):
    response = post_api(client, api_account, media.photo(1))
    assert response.status_code == 201
    body = response.get_json()
    receipt = body["receipt"]
    assert receipt["format"] == "tamga-receipt/1"
    assert receipt["registration_number"] == body["registration_number"]
    assert receipt["main_file_sha256"] == body["sha256"]
    assert receipt["max_merge_seconds"] == 300
    submitted = datetime.fromisoformat(receipt["submitted_at"].replace("Z", "+00:00"))
    deadline = datetime.fromisoformat(receipt["merge_deadline"].replace("Z", "+00:00"))
    assert deadline - submitted == timedelta(seconds=300)
    assert receipt["account_commitment"].startswith("hmac-sha256:")

    checks = verify_receipt(receipt, _vkeys(app))
    assert all(c.ok and not c.warning for c in checks), checks
    number = body["registration_number"]
    owner = client.get(f"/api/v1/works/{number}", headers=api_account.headers).get_json()
    assert owner["receipt"] == receipt  # the owner reads it again later
    assert "receipt" not in client.get(f"/api/v1/works/{number}").get_json()

    for field, value in (("merge_deadline", "2099-01-01T00:00:00.000000Z"),
                         ("main_file_sha256", "0" * 64),
                         ("registration_number", "KZ-2026-999999")):
        forged = {**receipt, field: value}
        assert not all(c.ok for c in verify_receipt(forged, _vkeys(app))), field
    embedded = verify_receipt(receipt, None)  # only the key the receipt carries: a warning
    assert all(c.ok for c in embedded) and embedded[1].warning


def test_tamga_verify_checks_the_receipt_and_that_the_promise_was_kept(client, app, api_account,
                                                                       media, tmp_path, capsys):
    body = post_api(client, api_account, media.photo(1)).get_json()
    number = body["registration_number"]
    receipt_path = tmp_path / "RECEIPT.json"
    receipt_path.write_text(json.dumps(body["receipt"]))
    key = _vkeys(app)[0]

    assert tamga_verify([str(receipt_path), "--key", key]) == 0
    assert "receipt signature: valid" in capsys.readouterr().out

    run_jobs(app)
    proof = client.get(f"/w/{number}/proof.json")
    assert proof.status_code == 200
    proof_path = tmp_path / "proof.json"
    proof_path.write_bytes(proof.data)
    assert tamga_verify([str(receipt_path), "--key", key, "--proof", str(proof_path)]) == 0
    out = capsys.readouterr().out
    assert "receipt honoured" in out and "RESULT: all checks passed" in out

    # The certificate PDF carries the same proof; and the proof can be fetched online.
    (tmp_path / "certificate.pdf").write_bytes(client.get(f"/w/{number}/certificate.pdf").data)
    assert tamga_verify([str(receipt_path), "--key", key, "--proof",
                         str(tmp_path / "certificate.pdf")]) == 0
    with _serving(tmp_path) as base:
        assert tamga_verify([str(receipt_path), "--key", key, "--proof",
                             f"{base}/proof.json"]) == 0
        assert tamga_verify([str(receipt_path), "--key", key, "--proof",
                             f"{base}/nothing.json"]) == 2
    capsys.readouterr()

    # The proof of another work does not honour this receipt.
    other = post_api(client, api_account, media.photo(2)).get_json()["registration_number"]
    run_jobs(app)
    (tmp_path / "other.json").write_bytes(client.get(f"/w/{other}/proof.json").data)
    assert tamga_verify([str(receipt_path), "--key", key, "--proof",
                         str(tmp_path / "other.json")]) == 1
    assert "registration number" in capsys.readouterr().out

    # A changed receipt fails; an unreadable one cannot start.
    changed = copy.deepcopy(body["receipt"])
    changed["max_merge_seconds"], changed["merge_deadline"] = 3600, "x"
    receipt_path.write_text(json.dumps(changed))
    assert tamga_verify([str(receipt_path), "--key", key]) == 1
    changed = {**body["receipt"], "submitted_at": "2026-01-01T00:00:00.000000Z",
               "merge_deadline": "2026-01-01T00:05:00.000000Z"}
    receipt_path.write_text(json.dumps(changed))
    assert tamga_verify([str(receipt_path), "--key", key]) == 1
    assert "not valid" in capsys.readouterr().out
    assert tamga_verify([str(receipt_path), "--proof", str(tmp_path / "missing.json")]) == 2


def test_the_receipt_is_downloadable_from_the_work_page_by_its_owner_only(app, accounts,
                                                                          media):
    accounts.create()
    accounts.login()
    number = register_form(accounts.client, media.photo(1))
    page = accounts.client.get(f"/works/{number}").get_data(as_text=True)
    assert f"/works/{number}/receipt.json" in page
    assert "Signed receipt" in page
    download = accounts.client.get(f"/works/{number}/receipt.json")
    assert download.status_code == 200
    assert download.mimetype == "application/json"
    assert "attachment" in download.headers["Content-Disposition"]
    receipt = json.loads(download.data)
    assert receipt["registration_number"] == number
    assert all(c.ok for c in verify_receipt(receipt, _vkeys(app)))

    accounts.logout()
    accounts.create("other@example.kz", name="Other")
    accounts.login("other@example.kz")
    assert accounts.client.get(f"/works/{number}/receipt.json").status_code == 403
    assert accounts.client.get("/works/KZ-2026-999999/receipt.json").status_code == 404


def _monitor(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["ledger", "monitor"])
    return result.exit_code, result.output


def test_ledger_monitor_reports_receipts_not_honoured_in_time(client, app, api_account, media):
    from registry.extensions import db
    from registry.models import Job, Work
    from registry.services import receipts
    from registry.tasks import runner_of

    settings = app.extensions["tamga.settings"]
    on_time = post_api(client, api_account, media.photo(1)).get_json()["registration_number"]
    run_jobs(app)
    code, output = _monitor(app)
    assert code == 0, output
    assert "1 receipts checked: 1 honoured" in output

    app.extensions["tamga.settings"] = replace(settings, max_merge_seconds=1)
    late = post_api(client, api_account, media.photo(2)).get_json()
    assert late["receipt"]["max_merge_seconds"] == 1
    third = media.photo(3)
    waiting = post_api(client, api_account, third).get_json()["registration_number"]
    with app.app_context():  # before the deadline, an unmerged receipt is only pending
        report = receipts.monitor(app.extensions["tamga.settings"], datetime.now(UTC))
        db.session.remove()
    assert report.pending == 2 and not report.breaches
    time.sleep(1.2)
    with app.app_context():  # merge the second one only, after its deadline
        job = db.session.scalar(db.select(Job).join(Work, Job.work_id == Work.id).where(
            Work.registration_number == late["registration_number"]))
        runner_of(app).run_one(job.id)
        db.session.remove()
    code, output = _monitor(app)
    assert code == 1
    lines = output.splitlines()
    assert any(line.startswith("late") and late["registration_number"] in line for line in lines)
    assert any(line.startswith("not merged") and waiting in line for line in lines)
    assert not any(on_time in line for line in lines)
    assert "3 receipts checked: 1 honoured, 0 pending" in output
    assert "2 receipts not honoured in time" in output
