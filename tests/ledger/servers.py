"""Real outside attesters for the tests: an RFC 3161 authority driven by
``openssl ts -reply`` behind a small HTTP handler, and ``tamga-witness``
processes. Certificates and keys are made here, in the test's folder."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PORTS = range(5600, 5700)


def _ports() -> range:
    """This helper's ports (5600-5699), split between pytest-xdist workers."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or count <= 1:
        return PORTS
    share = len(PORTS) // count
    first = PORTS.start + share * int(worker[2:])
    return range(first, first + share)


def free_port() -> int:
    """A loopback port in 5600–5699 that nothing listens on now."""
    for port in _ports():
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 5600-5699")


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_tsa_certificates(folder: Path, name: str) -> None:
    """``ca.pem`` (a root) and ``tsa.pem``/``tsa.key`` (critical EKU timeStamping)."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name(f"{name} root")).issuer_name(
        _name(f"{name} root")).public_key(ca_key.public_key()).serial_number(
        x509.random_serial_number()).not_valid_before(now).not_valid_after(
        now + dt.timedelta(days=30)).add_extension(
        x509.BasicConstraints(ca=True, path_length=None), critical=True).add_extension(
        x509.KeyUsage(False, False, False, False, False, True, True, False, False),
        critical=True).sign(ca_key, hashes.SHA256()))
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (x509.CertificateBuilder().subject_name(_name(f"{name} TSA")).issuer_name(
        ca.subject).public_key(tsa_key.public_key()).serial_number(
        x509.random_serial_number()).not_valid_before(now).not_valid_after(
        now + dt.timedelta(days=30)).add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True).add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True).sign(
        ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa.pem").write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa.key").write_bytes(_pem_key(tsa_key))
    (folder / "serial").write_text("01\n")
    (folder / "ts.cnf").write_text(f"""
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {folder}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")


class OpensslTSA:
    """``openssl ts -reply`` behind HTTP; ``down`` makes it answer 503 like a dead TSA."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        make_tsa_certificates(folder, name)
        self.down = False
        self.requests = 0
        self.port = free_port()
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                tsa.requests += 1
                query = self.rfile.read(int(self.headers["Content-Length"]))
                if tsa.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                reply = tsa.reply(query)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        for attempt in range(5):
            try:
                self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
                break
            except OSError:  # taken between the check and the bind
                if attempt == 4:
                    raise
                self.port = free_port()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tsr"

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    def reply(self, query: bytes) -> bytes:
        with self._lock:  # openssl updates the serial file
            q, r = self.folder / "query.tsq", self.folder / "reply.tsr"
            q.write_bytes(query)
            subprocess.run(["openssl", "ts", "-reply", "-config", str(self.folder / "ts.cnf"),
                            "-queryfile", str(q), "-out", str(r)], check=True,
                           capture_output=True)
            return r.read_bytes()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def witness_command() -> list[str]:
    script = Path(sys.executable).parent / "tamga-witness"
    return [str(script)] if script.exists() else [sys.executable, "-m", "registry.core.witness"]


def witness_vkey(state: Path, name: str) -> str:
    out = subprocess.run([*witness_command(), "key", "--state", str(state), "--name", name],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


class WitnessProcess:
    """A ``tamga-witness serve`` process on a loopback port; stop() and start() again."""

    def __init__(self, state: Path, name: str, logs: list[str]) -> None:
        self.state, self.logs = state, logs
        self.vkey = witness_vkey(state, name)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.output = state.parent / f"{state.name}.stderr"
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        for attempt in range(5):
            try:
                self._start()
                return
            except OSError:  # the port was taken between the check and the bind
                if self.started_once or attempt == 4:
                    raise
                self.port = free_port()

    started_once = False

    def _start(self) -> None:
        args = [*witness_command(), "serve", "--port", str(self.port), "--state", str(self.state)]
        for log in self.logs:
            args += ["--log", log]
        with open(self.output, "ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=out)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:  # it died: the port may be another's
                self.proc = None
                text = self.output.read_text()
                if "Address already in use" in text.rsplit("serving", 1)[-1]:
                    raise OSError(f"port {self.port} taken")
                raise RuntimeError(text)
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1) as reply:
                    if reply.read().decode().strip() == self.vkey:
                        self.started_once = True
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"tamga-witness did not start: {self.output.read_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def log_text(self) -> str:
        return (self.state / "witness.log").read_text()
