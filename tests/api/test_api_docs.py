"""The OpenAPI document and the page that renders it."""

from __future__ import annotations

import json
import re
from pathlib import Path

IMPLEMENTED = {("/works", "post"), ("/works/{registration_number}", "get"),
               ("/openapi.json", "get")}


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_openapi_is_served_and_lists_the_implemented_paths(client, app):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    operations = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert IMPLEMENTED <= operations
    # every documented operation is routed on this app, with the same path parameters
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(rule)), m.lower())
              for rule in app.url_map.iter_rules() for m in rule.methods or ()}
    for path, method in operations:
        assert ("/api/v1" + path, method) in routes, (path, method)


def test_every_reference_resolves_and_errors_share_one_schema():
    spec = json.loads((Path(__file__).resolve().parents[2] / "registry" / "api"
                       / "openapi.json").read_text())
    for ref in set(_refs(spec)):
        target = spec
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, dict), ref
    post = spec["paths"]["/works"]["post"]["responses"]
    assert {"201", "400", "401", "403", "409", "413", "415", "422", "429"} <= set(post)
    for status, response in post.items():
        if status != "201":
            resolved = response
            if "$ref" in response:
                resolved = spec["components"]["responses"][response["$ref"].split("/")[-1]]
            schema = resolved["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, status


def test_docs_page_renders_without_any_cdn(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    assert "/static/js/apidocs.js" in html
    assert "https://" not in html.split("<footer", 1)[0].split("<main", 1)[1]
    labels = html.split('id="apidocs-labels">', 1)[1].split("</script>", 1)[0]
    assert json.loads(labels)["endpoints"] == "Endpoints"
    script = client.get("/static/js/apidocs.js")
    assert script.status_code == 200 and b"fetch(" in script.data
    script.close()
