"""tamga-witness: a C2SP tlog-witness for any log whose origin and key it is told.

    tamga-witness key --state DIR
    tamga-witness serve --port P --state DIR --log ORIGIN=VKEY [--log ...]

It needs no Tamga database: its whole state is the folder DIR, which holds its
Ed25519 key (``witness-key.json``, mode 0600, made on first start) and, for each
log, the latest checkpoint it cosigned (``logs/<sha256(origin)>.json``, replaced
atomically and synced before a cosignature is returned). It answers
``POST /add-checkpoint`` (C2SP tlog-witness) with an Ed25519 cosignature/v1
(C2SP tlog-cosignature), and ``GET /<sha256(origin)>/checkpoint`` with the
latest cosigned checkpoint. A checkpoint that is not consistent with the one it
cosigned before (a split view or a rewritten history) is refused with 422 and
written to its log (stderr and ``DIR/witness.log``).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import fcntl
import hashlib
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.core.tamga_verify import (
    COSIGNATURE_ALG,
    EM_DASH,
    NoteError,
    ProofError,
    VerifierKey,
    cosignature_message,
    encode_witness_key,
    key_id,
    note_body,
    parse_checkpoint,
    parse_verifier_key,
    verify_consistency,
    verify_note,
)

KEY_FILE = "witness-key.json"
LOG_FILE = "witness.log"
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_BODY = 64 * 1024
MAX_PROOF_LINES = 63
SIZE_MEDIA_TYPE = "text/x.tlog.size"

log = logging.getLogger("tamga-witness")


class Refusal(Exception):
    """A request the witness turns down: an HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str, body: str | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.body = status, reason, body


# --------------------------------------------------------------------------- key


@dataclass(frozen=True)
class WitnessKey:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def vkey(self) -> str:
        return encode_witness_key(self.name, self.public_key)

    def cosign(self, body: str, timestamp: int) -> str:
        """One cosignature/v1 note signature line (with its newline)."""
        signature = self.private_key.sign(cosignature_message(body, timestamp))
        raw = key_id(self.name, self.public_key, COSIGNATURE_ALG)
        raw += timestamp.to_bytes(8, "big") + signature
        return f"{EM_DASH} {self.name} {base64.b64encode(raw).decode('ascii')}\n"


def _write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_or_create_key(state: Path, name: str | None = None) -> WitnessKey:
    """The witness's key from ``state``; made (mode 0600) if the folder has none."""
    state.mkdir(parents=True, exist_ok=True)
    path = state / KEY_FILE
    if path.exists():
        data = json.loads(path.read_text("utf-8"))
        seed = base64.b64decode(data["seed"])
        return WitnessKey(data["name"], Ed25519PrivateKey.from_private_bytes(seed))
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    if not name:
        pub = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        name = f"witness.tamga/{socket.gethostname()}-{hashlib.sha256(pub).hexdigest()[:8]}"
    body = json.dumps({"name": name, "seed": base64.b64encode(seed).decode("ascii")})
    _write_atomically(path, body.encode("utf-8"), 0o600)
    os.chmod(path, 0o600)
    return WitnessKey(name, private)


# --------------------------------------------------------------------------- the witness


def origin_hash(origin: str) -> str:
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Request:
    old_size: int
    proof: list[bytes]
    checkpoint: str


def parse_request(body: bytes) -> Request:
    """``old N``, up to 63 base64 proof lines, an empty line, then a signed checkpoint."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "the request is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise Refusal(400, "the request has no empty line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    size_text = first[4:]
    if not first.startswith("old ") or not size_text.isdigit() or (
        len(size_text) > 1 and size_text[0] == "0"
    ):
        raise Refusal(400, "the first line is not 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise Refusal(400, "more than 63 consistency proof lines")
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except (binascii.Error, ValueError):
        raise Refusal(400, "a consistency proof line is not base64") from None
    return Request(int(size_text), proof, note)


class Witness:
    """The witness's logic and state; the HTTP handler only translates."""

    def __init__(self, state: Path, key: WitnessKey, logs: dict[str, list[VerifierKey]]) -> None:
        self.state, self.key, self.logs = state, key, logs
        (state / "logs").mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _path(self, origin: str) -> Path:
        return self.state / "logs" / f"{origin_hash(origin)}.json"

    def latest(self, origin: str) -> dict[str, Any] | None:
        path = self._path(origin)
        if not path.exists():
            return None
        return json.loads(path.read_text("utf-8"))

    def add_checkpoint(self, body: bytes) -> str:
        """Check and cosign; returns the signature line(s) or raises ``Refusal``."""
        req = parse_request(body)
        try:
            checkpoint_text = note_body(req.checkpoint)
            cp = parse_checkpoint(checkpoint_text)
        except NoteError as exc:
            raise Refusal(400, f"the checkpoint cannot be read: {exc}") from None
        keys = self.logs.get(cp.origin)
        if keys is None:
            raise Refusal(404, f"unknown log origin {cp.origin!r}")
        try:
            verify_note(req.checkpoint, keys)
        except NoteError as exc:
            raise Refusal(403, f"{cp.origin}: checkpoint not signed by the log's key ({exc})"
                          ) from None
        if req.old_size > cp.size:
            raise Refusal(400, f"old size {req.old_size} is larger than the checkpoint's")
        with self._lock:
            stored = self.latest(cp.origin)
            known = stored["size"] if stored else 0
            if req.old_size != known:
                raise Refusal(409, f"{cp.origin}: old size {req.old_size}, but the latest "
                              f"cosigned size is {known}", f"{known}\n")
            self._check_consistency(req, cp, stored)
            stamp = int(time.time())
            line = self.key.cosign(checkpoint_text, stamp)
            self._persist(cp.origin, cp.size, cp.root_hash, req.checkpoint + line, stamp)
        log.info("cosigned %s at size %d", cp.origin, cp.size)
        return line

    def _check_consistency(self, req: Request, cp: Any, stored: dict[str, Any] | None) -> None:
        root64 = base64.b64encode(cp.root_hash).decode("ascii")
        if cp.size == 0 and cp.root_hash != EMPTY_ROOT:
            raise Refusal(422, f"{cp.origin}: an empty tree with a root that is not empty")
        if stored is None or req.old_size == 0:
            if req.proof:
                raise Refusal(422, f"{cp.origin}: a consistency proof from size 0 must be empty")
            return
        old_root = base64.b64decode(stored["root"])
        try:
            verify_consistency(req.old_size, cp.size, req.proof, old_root, cp.root_hash)
        except ProofError as exc:
            message = (
                f"REFUSED {cp.origin}: the checkpoint of size {cp.size} with root {root64} is "
                f"not consistent with the checkpoint of size {stored['size']} with root "
                f"{stored['root']} this witness cosigned before ({exc}); a split view or a "
                "rewritten history"
            )
            log.warning(message)
            raise Refusal(422, message) from None

    def _persist(self, origin: str, size: int, root: bytes, note: str, stamp: int) -> None:
        record = {"origin": origin, "size": size,
                  "root": base64.b64encode(root).decode("ascii"), "checkpoint": note,
                  "cosigned_at": stamp}
        _write_atomically(self._path(origin), json.dumps(record, indent=1).encode("utf-8"))


class _Handler(BaseHTTPRequestHandler):
    server_version = "tamga-witness/1"
    witness: Witness

    def _send(self, status: int, body: str, media: str = "text/plain; charset=utf-8") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        if self.path.rstrip("/") != "/add-checkpoint":
            self._send(404, "not found\n")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, "request too large\n")
            return
        try:
            line = self.witness.add_checkpoint(self.rfile.read(length))
        except Refusal as refusal:
            if refusal.status == 409:
                self._send(409, refusal.body or "", SIZE_MEDIA_TYPE)
            else:
                if refusal.status != 422:  # 422s were logged as refusals already
                    log.info("%d: %s", refusal.status, refusal.reason)
                self._send(refusal.status, refusal.reason + "\n")
            return
        self._send(200, line)

    def do_GET(self) -> None:  # noqa: N802
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[1] == "checkpoint":
            for origin in self.witness.logs:
                if origin_hash(origin) == parts[0]:
                    stored = self.witness.latest(origin)
                    if stored:
                        self._send(200, stored["checkpoint"])
                        return
            self._send(404, "never cosigned a checkpoint of this log\n")
            return
        if self.path in ("/", ""):
            self._send(200, f"{self.witness.key.vkey}\n")
            return
        self._send(404, "not found\n")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("%s " + format, self.address_string(), *args)


def make_server(witness: Witness, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("Handler", (_Handler,), {"witness": witness})
    return ThreadingHTTPServer((host, port), handler)


# --------------------------------------------------------------------------- command line


def _parse_logs(values: Sequence[str]) -> dict[str, list[VerifierKey]]:
    logs: dict[str, list[VerifierKey]] = {}
    for value in values:
        origin, sep, vkey = value.partition("=")
        if not sep or not origin or not vkey:
            raise SystemExit(f"--log wants ORIGIN=VKEY, not {value!r}")
        try:
            logs.setdefault(origin, []).append(parse_verifier_key(vkey))
        except NoteError as exc:
            raise SystemExit(f"--log {origin}: {exc}") from None
    return logs


def _setup_logging(state: Path) -> None:
    fmt = logging.Formatter("%(asctime)s tamga-witness %(levelname)s %(message)s")
    log.setLevel(logging.INFO)
    for handler in (logging.StreamHandler(sys.stderr), logging.FileHandler(state / LOG_FILE)):
        handler.setFormatter(fmt)
        log.addHandler(handler)


def _lock_state(state: Path) -> Any:
    fh = open(state / ".lock", "w")  # noqa: SIM115 - held for the life of the process
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"another tamga-witness is using {state}") from None
    return fh


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tamga-witness", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    key_cmd = sub.add_parser("key", help="print the witness's verifier key (made if missing)")
    key_cmd.add_argument("--state", required=True, type=Path)
    key_cmd.add_argument("--name", help="the witness's name, used only when the key is made")
    serve = sub.add_parser("serve", help="serve the C2SP witness protocol")
    serve.add_argument("--state", required=True, type=Path)
    serve.add_argument("--port", required=True, type=int)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--log", action="append", default=[], metavar="ORIGIN=VKEY",
                       help="a log this witness cosigns, by origin and note key; repeatable")
    serve.add_argument("--name", help="the witness's name, used only when the key is made")
    args = parser.parse_args(argv)
    key = load_or_create_key(args.state, args.name)
    if args.command == "key":
        print(key.vkey)
        return 0
    logs = _parse_logs(args.log)
    if not logs:
        parser.error("give at least one --log ORIGIN=VKEY")
    lock = _lock_state(args.state)
    _setup_logging(args.state)
    witness = Witness(args.state, key, logs)
    server = make_server(witness, args.host, args.port)
    log.info("serving %s on %s:%d for %s", key.vkey, args.host, args.port, ", ".join(logs))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
