"""Issue 12, item 3: password-reset links followed the request's ``Host`` header (and
``X-Forwarded-Host`` behind the proxy), so ``Host: evil.example`` mailed
``http://evil.example/reset/<valid token>``. Links now come from the configured base
URL; requests for unknown hosts are refused (``TAMGA_TRUSTED_HOSTS``). Issue 20: with
no ``TAMGA_BASE_URL`` the base follows ``HOST``/``PORT`` of ``make run``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from registry.config import load_config


def _mails(app) -> list[str]:
    from tests.web.test_accounts import outbox_messages  # runs the due mail jobs first

    return [m.get_payload(decode=True).decode() for m in outbox_messages(app)]


def _links(app) -> list[str]:
    return [link for body in _mails(app) for link in re.findall(r"https?://\S+", body)]


@pytest.mark.parametrize("headers", [
    {"Host": "evil.example"},
    {"Host": "evil.example:80"},
    {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
])
@pytest.mark.parametrize("proxy", [False, True])
def test_a_foreign_host_gets_no_reset_link(app, accounts, client, headers, proxy):
    if proxy:
        app.config["TAMGA_PROXY_FIX"] = True
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    accounts.create("victim@example.kz")
    response = client.post("/reset", data={"email": "victim@example.kz"}, headers=headers)
    if "Host" in headers or proxy:
        assert response.status_code == 400
    client.post("/reset", data={"email": "victim@example.kz"})  # an honest request
    links = _links(app)
    assert links and all("evil.example" not in link for link in links)


def test_the_reset_link_comes_from_the_base_url(app, accounts, client):
    app.extensions["tamga.settings"] = __import__("dataclasses").replace(
        app.extensions["tamga.settings"], base_url="https://tamga.kz")
    accounts.create("victim@example.kz")
    assert client.post("/reset", data={"email": "victim@example.kz"}).status_code == 302
    (link,) = _links(app)
    assert re.fullmatch(r"https://tamga\.kz/reset/\S+", link)


def test_trusted_hosts_setting(app_factory):
    app = app_factory(TAMGA_TRUSTED_HOSTS=["tamga.kz", ".tamga.kz"])
    client = app.test_client()
    assert client.get("/", headers={"Host": "tamga.kz"}).status_code == 200
    assert client.get("/", headers={"Host": "www.tamga.kz"}).status_code == 200
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "tamga.kz.evil.example"}).status_code == 400


@pytest.fixture
def app_factory(database_url, tmp_path):
    from registry import create_app
    from tests.conftest import _app_config

    made = []

    def make(**overrides):
        config = _app_config(database_url, tmp_path / "instance")
        config.pop("SERVER_NAME")
        made.append(create_app({**config, **overrides}))
        return made[-1]

    yield make
    from registry.extensions import db

    for application in made:
        with application.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("env, expected", [
    ({}, "http://127.0.0.1:5000"),
    ({"PORT": "5101"}, "http://127.0.0.1:5101"),
    ({"HOST": "0.0.0.0", "PORT": "8080"}, "http://127.0.0.1:8080"),
    ({"HOST": "192.168.1.20", "PORT": "5101"}, "http://192.168.1.20:5101"),
    ({"PORT": "5101", "TAMGA_BASE_URL": "https://tamga.kz"}, "https://tamga.kz"),
])
def test_the_base_url_follows_the_served_address(monkeypatch, tmp_path, env, expected):
    for name in ("HOST", "PORT", "TAMGA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_config(tmp_path)["TAMGA_BASE_URL"] == expected


def test_make_passes_the_served_address_to_the_app():
    """``PORT=5101 make run``: the recipe's environment carries HOST and PORT."""
    import os
    import subprocess

    root = Path(__file__).resolve().parents[2]
    probe = "probe: ; @echo $$HOST $$PORT"
    env = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT", "MAKEFLAGS")}
    done = subprocess.run(["make", "-s", "--eval", probe, "probe"], cwd=root, env={
        **env, "PORT": "5101"}, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["127.0.0.1", "5101"]
