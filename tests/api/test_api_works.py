"""POST and GET /api/v1/works: the happy path and every error status."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from tests.registration import post_api, run_jobs

RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
NUMBER = re.compile(r"^KZ-\d{4}-\d{6}$")


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    return body["error"]


def test_register_image_then_read_it_registered(client, app, api_account, media):
    response = post_api(client, api_account, media.photo(1), created_on="2025",
                        description="Morning light over the steppe.")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"registration_number", "registered_at", "sha256", "status", "url",
                         "receipt"}
    assert NUMBER.match(body["registration_number"])
    assert RFC3339_Z.match(body["registered_at"])
    assert len(body["sha256"]) == 64 and body["status"] == "processing"
    assert body["url"] == f"http://tamga.test/w/{body['registration_number']}"
    assert response.headers["Location"].endswith(f"/api/v1/works/{body['registration_number']}")

    run_jobs(app)
    record = client.get(f"/api/v1/works/{body['registration_number']}",
                        headers=api_account.headers).get_json()
    assert record["status"] == "registered"
    assert record["iscc"].startswith("ISCC:")
    assert record["sha256"] == body["sha256"]
    assert record["authors"] == [{"full_name": "Aigerim", "role": "photographer", "share": 100.0,
                                  "confirmation": None}]
    assert record["ai_use"] == "none" and record["iptc_digital_source_type"] == "digitalCapture"
    assert record["media"]["kind"] == "image" and record["media"]["width"] == 640
    assert record["matches"] == [] and record["job"]["status"] == "done"


def test_register_audio_with_authors_json_and_see_match(client, app, make_account, media):
    first = make_account("first@example.kz", "First")
    second = make_account("second@example.kz", "Second")
    authors = json.dumps([{"full_name": "Айгерім Сәрсенова", "role": "composer", "share": 60},
                          {"full_name": "Dana Ospan", "role": "lyricist", "share": "40"}])
    a = post_api(client, first, media.mono_song(), work_type="musical_work", authors=authors,
                 ai_use="ai_assisted", human_contribution="Melody and lyrics.",
                 ai_tools="mastering plug-in", created_on="2025-11-03")
    assert a.status_code == 201, a.get_json()
    run_jobs(app)
    b = post_api(client, second, media.mono_song(), work_type="sound_recording", title="Copy")
    assert b.status_code == 201, b.get_json()
    run_jobs(app)

    number_a = a.get_json()["registration_number"]
    record_a = client.get(f"/api/v1/works/{number_a}").get_json()
    assert [x["role"] for x in record_a["authors"]] == ["composer", "lyricist"]
    assert record_a["iptc_digital_source_type"] == "compositeWithTrainedAlgorithmicMedia"
    assert record_a["media"]["kind"] == "audio" and record_a["media"]["duration_s"] > 3
    assert "matches" not in record_a  # no token: the public record only

    record_b = client.get(f"/api/v1/works/{b.get_json()['registration_number']}",
                          headers=second.headers).get_json()
    assert record_b["status"] == "conflict"
    assert record_b["matches"][0]["registration_number"] == number_a
    assert record_b["matches"][0]["score"] > 0.5
    assert RFC3339_Z.match(record_b["matches"][0]["registered_at"])
    # The earlier work's owner sees no matches on theirs: it came first.
    own = client.get(f"/api/v1/works/{number_a}", headers=first.headers).get_json()
    assert own["status"] == "registered" and own["matches"] == []


def test_sync_worker_runs_the_job_inline(client, app, api_account, media):
    app.config["TAMGA_WORKER"] = "sync"
    response = post_api(client, api_account, media.photo(1))
    assert response.status_code == 201 and response.get_json()["status"] == "registered"
    number = response.get_json()["registration_number"]
    record = client.get(f"/api/v1/works/{number}", headers=api_account.headers).get_json()
    assert record["status"] == "registered" and record["iscc"]


def test_supporting_files_are_hashed_and_listed(client, app, api_account, media):
    with open(media.photo(1), "rb") as main, open(media.text(), "rb") as notes:
        response = client.post("/api/v1/works", headers=api_account.headers, data={
            "title": "Sketch", "work_type": "artwork", "file": (main, "sketch.jpg"),
            "supporting": [(notes, "notes.txt")]}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    record = client.get(response.headers["Location"], headers=api_account.headers).get_json()
    assert [f["role"] for f in record["files"]] == ["main", "supporting"]


def test_no_token_and_bad_tokens_are_401(client, api_account, media):
    anonymous = client.post("/api/v1/works", data={"title": "x", "work_type": "photograph"})
    assert anonymous.status_code == 401 and error_of(anonymous)["code"] == "unauthorized"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Bearer tmg_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer "):
        response = client.get("/api/v1/works/KZ-2026-000001",
                              headers={"Authorization": header})
        assert response.status_code == 401, header
        assert error_of(response)["code"] == "unauthorized"


def test_unconfirmed_account_is_403(client, make_account, media):
    account = make_account("new@example.kz", confirmed=False)
    response = post_api(client, account, media.photo(1))
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"


def test_unsupported_file_is_415(client, api_account, media):
    response = post_api(client, api_account, media.text())
    assert response.status_code == 415 and error_of(response)["code"] == "unsupported_type"


def test_empty_and_corrupt_files_are_422(client, api_account, media):
    empty = post_api(client, api_account, media.empty())
    assert empty.status_code == 422 and error_of(empty)["code"] == "empty_file"
    corrupt = post_api(client, api_account, media.corrupt(), work_type="sound_recording")
    assert corrupt.status_code == 422, corrupt.get_json()
    assert error_of(corrupt)["code"] == "corrupt"


def test_too_large_is_413(client, app, api_account, media):
    settings = app.extensions["tamga.settings"]
    app.extensions["tamga.settings"] = replace(
        settings, limits=replace(settings.limits, max_bytes=10_000))
    response = post_api(client, api_account, media.photo(1))
    assert response.status_code == 413 and error_of(response)["code"] == "too_large"


def test_request_over_the_content_length_limit_is_413(client, app, api_account, media):
    app.config["MAX_CONTENT_LENGTH"] = 20_000
    response = post_api(client, api_account, media.photo(1))
    assert response.status_code == 413
    error_of(response)


def test_missing_fields_are_422(client, api_account, media):
    no_title = post_api(client, api_account, media.photo(1), title="  ")
    assert no_title.status_code == 422 and error_of(no_title)["code"] == "validation_failed"
    no_type = post_api(client, api_account, media.photo(1), work_type="")
    assert no_type.status_code == 422
    bad_type = post_api(client, api_account, media.photo(1), work_type="novel")
    assert bad_type.status_code == 422 and "novel" not in error_of(bad_type)["message"]
    no_file = client.post("/api/v1/works", headers=api_account.headers,
                          data={"title": "x", "work_type": "photograph"})
    assert no_file.status_code == 422
    wrong_kind = post_api(client, api_account, media.mono_song(), work_type="photograph")
    assert wrong_kind.status_code == 422
    bad_date = post_api(client, api_account, media.photo(1), created_on="last spring")
    assert bad_date.status_code == 422
    ai_without_statement = post_api(client, api_account, media.photo(1), ai_use="ai_generated")
    assert ai_without_statement.status_code == 422
    long_title = post_api(client, api_account, media.photo(1), title="x" * 301)
    assert long_title.status_code == 422
    no_authors = post_api(client, api_account, media.photo(1), authors="[]")
    assert no_authors.status_code == 422
    bad_role = post_api(client, api_account, media.photo(1),
                        authors='[{"full_name": "A", "role": "wizard", "share": 100}]')
    assert bad_role.status_code == 422
    bad_visibility = post_api(client, api_account, media.photo(1), visibility="secret")
    assert bad_visibility.status_code == 422
    # none of the refused requests used up a registration number
    accepted = post_api(client, api_account, media.photo(1))
    assert accepted.get_json()["registration_number"].endswith("-000001")


def test_shares_not_adding_up_are_422(client, api_account, media):
    authors = json.dumps([{"full_name": "A", "role": "photographer", "share": 50},
                          {"full_name": "B", "role": "photographer", "share": 40}])
    response = post_api(client, api_account, media.photo(1), authors=authors)
    assert response.status_code == 422
    assert "100" in error_of(response)["message"]


def test_malformed_authors_are_400(client, api_account, media):
    for raw in ("[{'full_name': 'A'}", '{"full_name": "A"}', '["A"]'):
        response = post_api(client, api_account, media.photo(1), authors=raw)
        assert response.status_code == 400, raw
        assert error_of(response)["code"] == "malformed_request"


def test_same_file_twice_by_the_same_account_is_409(client, api_account, media):
    first = post_api(client, api_account, media.photo(1))
    assert first.status_code == 201
    again = post_api(client, api_account, media.photo(1), title="Again")
    assert again.status_code == 409 and error_of(again)["code"] == "conflict"
    assert first.get_json()["registration_number"] in error_of(again)["message"]


def test_private_work_shows_little_to_others(client, app, make_account, media):
    owner = make_account("owner@example.kz", "Owner")
    other = make_account("other@example.kz", "Other")
    created = post_api(client, owner, media.photo(2), visibility="private", title="Secret")
    assert created.status_code == 201
    run_jobs(app)
    url = f"/api/v1/works/{created.get_json()['registration_number']}"
    for headers in (other.headers, {}):
        limited = client.get(url, headers=headers).get_json()
        assert "title" not in limited and "authors" not in limited and "matches" not in limited
        assert limited["sha256"] == created.get_json()["sha256"]
        assert limited["status"] == "registered"
        assert RFC3339_Z.match(limited["registered_at"])
    full = client.get(url, headers=owner.headers).get_json()
    assert full["title"] == "Secret" and full["matches"] == []


def test_unknown_work_is_404(client, api_account):
    response = client.get("/api/v1/works/KZ-2026-999999", headers=api_account.headers)
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    route = client.get("/api/v1/nothing-here")
    assert route.status_code == 404 and error_of(route)


def test_public_sees_pending_while_owner_sees_processing(client, make_account, media):
    owner = make_account("owner@example.kz", "Owner")
    created = post_api(client, owner, media.photo(1))
    url = created.headers["Location"]
    assert client.get(url).get_json()["status"] == "pending"
    assert client.get(url, headers=owner.headers).get_json()["status"] == "processing"
