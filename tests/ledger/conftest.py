"""An application with two RFC 3161 authorities and two witnesses, all real and local."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from registry.core.ledger.keys import load_or_create_keyring
from tests.conftest import EnglishClient, _app_config
from tests.ledger.servers import OpensslTSA, WitnessProcess

ORIGIN = "tamga.test/ledger"


@dataclass
class Attesters:
    tsas: list[OpensslTSA]
    witnesses: list[WitnessProcess]
    log_vkey: str
    keys_dir: Path

    @property
    def tsa_urls(self) -> str:
        return ",".join(f"{t.url}|{t.ca}" for t in self.tsas)

    @property
    def witness_config(self) -> str:
        return ",".join(f"{w.vkey}={w.url}" for w in self.witnesses)


@pytest.fixture
def attesters(tmp_path: Path):
    keys_dir = tmp_path / "instance" / "keys"
    ring = load_or_create_keyring(keys_dir)
    log_vkey = ring.vkeys()[0]
    tsas = [OpensslTSA(tmp_path / f"tsa{i}", f"Test authority {i}") for i in (1, 2)]
    witnesses = []
    try:
        for i in (1, 2):
            witnesses.append(WitnessProcess(tmp_path / f"witness{i}", f"witness{i}.test/w",
                                            [f"{ORIGIN}={log_vkey}"]))
        yield Attesters(tsas, witnesses, log_vkey, keys_dir)
    finally:
        for w in witnesses:
            w.stop()
        for t in tsas:
            t.close()


@pytest.fixture
def app(database_url: str, tmp_path: Path, attesters: Attesters, request):
    from registry import create_app
    from registry.extensions import db

    config = _app_config(database_url, tmp_path / "instance") | {
        "TAMGA_LEDGER_ORIGIN": ORIGIN,
        "TAMGA_TSA_URLS": attesters.tsa_urls,
        "TAMGA_WITNESSES": attesters.witness_config,
        "TAMGA_KEYS_DIR": str(attesters.keys_dir),
        "TAMGA_WORKER": "sync",
        # Local servers answer in milliseconds; a loaded CI machine can stall one for
        # seconds, and a timed-out request waits out a back-off.
        "TAMGA_ATTEST_TIMEOUT": 30.0,
    }
    marker = request.node.get_closest_marker("app_config")
    if marker is not None:
        config |= marker.args[0]
    application = create_app(config)
    application.test_client_class = EnglishClient
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def served(app):
    """The application on a loopback port (5600-5699), for clients that speak HTTP."""
    import threading

    from werkzeug.serving import make_server

    from tests.ledger.servers import free_port

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
