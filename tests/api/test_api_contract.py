"""Issue 14, point 4: the API gives back what it takes, documents every route it
serves, and its answers validate against the schemas it documents."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import jsonschema
from pypdf import PdfReader

from tests.registration import register_api, run_jobs

SPEC = json.loads((Path(__file__).resolve().parents[2] / "registry" / "api"
                   / "openapi.json").read_text())

#: Every field of ``POST /works`` (WorkSubmission) that describes the work, with a value
#: unlike any default, and what ``GET /works/<number>`` must give back for it.
SENT = {
    "title": "Dombra at dawn", "original_title": "Домбыра таңда",
    "work_type": "photograph", "created_on": "2025-11-02", "published_on": "2026-01-15",
    "description": "Morning light over the steppe.", "language": "kk", "country": "KZ",
    "ai_use": "ai_assisted", "ai_tools": "Photoshop Generative Fill",
    "human_contribution": "Composition, light and the shot itself.",
    "licence": "CC-BY-4.0", "publication_url": "https://example.kz/dawn",
    "visibility": "public", "ai_training_opt_out": "false",
    "published": "true", "publication_place": "Almaty, Instagram", "ai_parts": "The sky",
    "registrant_capacity": "author", "rights_basis": "I took the photograph.",
    "allow_thumbnail": "false", "publish_original": "true",
}
#: What only the owner gets back.
OWNER_ONLY = {"visibility", "registrant_capacity", "rights_basis", "allow_thumbnail",
              "publish_original"}
NOT_RETURNED = {"file", "supporting", "authors", "confirm_ai_declaration"}


def _openapi_to_jsonschema(node):
    """OpenAPI 3.0 schema → JSON Schema: ``nullable`` becomes a null alternative."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _openapi_to_jsonschema(v) for k, v in node.items()
           if k not in ("nullable", "example")}
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def validate(instance, schema_name: str) -> None:
    root = _openapi_to_jsonschema(SPEC)
    jsonschema.validate(instance, {"$ref": f"#/components/schemas/{schema_name}",
                                   "components": root["components"]})


def test_the_owner_gets_back_every_field_that_was_sent(client, app, api_account, media):
    submitted = set(SPEC["components"]["schemas"]["WorkSubmission"]["properties"])
    assert set(SENT) | NOT_RETURNED == submitted  # a new field must be added here too
    number = register_api(client, app, api_account, media.photo(1), **SENT,
                          confirm_ai_declaration="true")
    record = client.get(f"/api/v1/works/{number}", headers=api_account.headers).get_json()
    for name, value in SENT.items():
        got = record[name]
        assert str(got).lower() == value.lower(), (name, got)
    validate(record, "WorkRecord")
    anonymous = client.get(f"/api/v1/works/{number}").get_json()
    validate(anonymous, "WorkRecord")
    assert anonymous["description"] == SENT["description"]
    assert not OWNER_ONLY & set(anonymous)


def test_the_website_form_and_the_api_build_the_same_metadata(app, accounts):
    """One schema: the registration form hands its fields to the API's parser."""
    from registry.extensions import db
    from registry.models.user import User
    from registry.services.metadata_input import metadata_from_fields
    from registry.web.works.forms import RegistrationForm

    user_id = accounts.create()
    form_data = {**SENT, "creation": SENT["created_on"], "authors-0-full_name": "Aigerim",
                 "authors-0-role": "photographer", "authors-0-share": "100",
                 "published": "y", "ai_training_opt_out": "", "allow_thumbnail": "",
                 "publish_original": "y"}
    with app.test_request_context("/works/new", method="POST", data=form_data):
        owner = db.session.get(User, user_id)
        form = RegistrationForm(meta={"csrf": False})
        form.fit_roles()
        from_form = form.to_metadata(owner)
        from_api = metadata_from_fields(SENT, owner, from_form.authors)
    assert from_form == from_api


def test_a_year_alone_comes_back_as_a_year(client, app, api_account, media):
    number = register_api(client, app, api_account, media.photo(1), created_on="2024")
    record = client.get(f"/api/v1/works/{number}", headers=api_account.headers).get_json()
    assert record["created_on"] == "2024" and record["published_on"] is None


def test_certificate_pdf_defaults_to_kazakh_and_russian(client, app, api_account, media):
    number = register_api(client, app, api_account, media.photo(1))
    response = client.get(f"/api/v1/works/{number}/certificate.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f'filename="{number}-certificate-kk+ru.pdf"' in response.headers["Content-Disposition"]
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "ТІРКЕУ ТУРАЛЫ КУӘЛІК" in text and "СВИДЕТЕЛЬСТВО О РЕГИСТРАЦИИ" in text
    # the same bytes as the website's download
    assert client.get(f"/w/{number}/certificate.pdf").data == response.data

    english = client.get(f"/api/v1/works/{number}/certificate.pdf?lang=en")
    assert "CERTIFICATE OF REGISTRATION" in PdfReader(io.BytesIO(english.data)).pages[0]\
        .extract_text()
    bad = client.get(f"/api/v1/works/{number}/certificate.pdf?lang=xx")
    assert bad.status_code == 422 and bad.get_json()["error"]["code"]


def test_a_private_certificate_is_only_for_its_owner(client, app, api_account, make_account,
                                                     media):
    number = register_api(client, app, api_account, media.photo(1), visibility="private")
    other = make_account("other@example.kz", name="Other")
    assert client.get(f"/api/v1/works/{number}/certificate.pdf").status_code == 404
    assert client.get(f"/api/v1/works/{number}/certificate.pdf",
                      headers=other.headers).status_code == 404
    assert client.get(f"/api/v1/works/{number}/certificate.pdf",
                      headers=api_account.headers).status_code == 200
    assert client.get("/api/v1/works/KZ-2026-999999/certificate.pdf").status_code == 404


def test_every_api_route_is_documented(app):
    documented = {("/api/v1" + path, method) for path, item in SPEC["paths"].items()
                  for method in item}
    served = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(rule)), method.lower())
              for rule in app.url_map.iter_rules() if str(rule).startswith("/api/v1/")
              for method in (rule.methods or ()) - {"HEAD", "OPTIONS"}}
    assert served - documented == set()


def _documented_json_answer(method: str, path: str, status: str = "200") -> dict:
    schema = SPEC["paths"][path][method]["responses"][status]["content"][
        "application/json"]["schema"]
    return {**_openapi_to_jsonschema(schema),
            "components": _openapi_to_jsonschema(SPEC)["components"]}


def test_every_documented_json_answer_validates(client, app, api_account, media):
    """Each operation whose success answer is documented as JSON is called, and its
    answer validates against the document (the list is checked to be complete)."""
    with open(media.photo(1), "rb") as fh:
        created = client.post("/api/v1/works", headers=api_account.headers,
                              content_type="multipart/form-data",
                              data={"title": "Dombra at dawn", "work_type": "photograph",
                                    "file": (fh, "photo.jpg")})
    run_jobs(app)
    number = created.get_json()["registration_number"]
    size = int(client.get("/api/v1/ledger/checkpoint").get_data(as_text=True).splitlines()[1])
    sha = created.get_json()["sha256"]
    with open(media.photo(1), "rb") as fh:
        lookup = client.post("/api/v1/lookup", data={"file": (fh, "photo.jpg")},
                             content_type="multipart/form-data")
    calls = {
        ("post", "/works"): (created, "201"),
        ("get", "/works/{registration_number}"): (
            client.get(f"/api/v1/works/{number}", headers=api_account.headers), "200"),
        ("post", "/lookup"): (lookup, "200"),
        ("get", "/search"): (client.get("/api/v1/search?q=Dombra"), "200"),
        ("get", "/openapi.json"): (client.get("/api/v1/openapi.json"), "200"),
        ("get", "/ledger/checkpoints/{size}/timestamps"): (
            client.get(f"/api/v1/ledger/checkpoints/{size}/timestamps"), "200"),
        ("post", "/reservations/check"): (
            client.post("/api/v1/reservations/check", json={"sha256": [sha], "iscc": []}),
            "200"),
        ("get", "/ledger/entries"): (client.get("/api/v1/ledger/entries?start=0"), "200"),
        ("get", "/ledger/proof/inclusion"): (
            client.get(f"/api/v1/ledger/proof/inclusion?index=0&size={size}"), "200"),
        ("get", "/ledger/proof/consistency"): (
            client.get(f"/api/v1/ledger/proof/consistency?old=1&new={size}"), "200"),
        ("get", "/ledger/keys"): (client.get("/api/v1/ledger/keys"), "200"),
    }
    documented = {(method, path) for path, item in SPEC["paths"].items()
                  for method, op in item.items() for status, answer in op["responses"].items()
                  if status.startswith("2") and "application/json" in answer.get("content", {})}
    assert documented == set(calls)
    for (method, path), (response, status) in calls.items():
        assert str(response.status_code) == status, (path, response.get_data(as_text=True))
        jsonschema.validate(response.get_json(), _documented_json_answer(method, path, status))
    assert lookup.get_json()["matches"][0]["registration_number"] == number
