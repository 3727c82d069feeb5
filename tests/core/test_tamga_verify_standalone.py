"""tamga_verify.py works copied alone: only the standard library, cryptography and pypdf."""

from __future__ import annotations

import ast
import base64
import io
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfWriter

from registry.core import tamga_verify
from registry.core.ledger import KeyRing, load_or_create_keyring
from registry.core.ledger.canonical import canonical_json
from registry.core.ledger.merkle import MemoryTree
from registry.core.ledger.store import checkpoint_body
from registry.core.tamga_verify import PROOF_FORMAT, leaf_hash

# rfc3161_client is imported only when a document carries RFC 3161 time-stamps.
ALLOWED_THIRD_PARTY = {"cryptography", "pypdf", "rfc3161_client"}

# Runs the copied file as a script with every `registry` import made impossible.
RUNNER = """
import importlib.abc, runpy, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "registry" or name.startswith("registry."):
            raise ImportError("registry must not be imported")
        return None

sys.meta_path.insert(0, Block())
sys.argv = ["tamga_verify.py", *sys.argv[1:]]
try:
    runpy.run_path("tamga_verify.py", run_name="__main__")
finally:
    assert not any(m == "registry" or m.startswith("registry.") for m in sys.modules)
"""


def test_imports_only_the_standard_library_cryptography_and_pypdf() -> None:
    tree = ast.parse(Path(tamga_verify.__file__).read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            roots.add(node.module.split(".")[0])
    assert roots - set(sys.stdlib_module_names) - {"__future__"} == ALLOWED_THIRD_PARTY


def _bundle(ring: KeyRing) -> dict:
    """A small ledger built in memory with the same primitives the store uses."""
    entries = [
        canonical_json({"kind": "work.registered", "at": "2026-11-21T10:00:00Z", "n": i})
        for i in range(5)
    ]
    tree = MemoryTree([leaf_hash(e) for e in entries])
    note = ring.sign_note(checkpoint_body("tamga.example/ledger", 5, tree.root()))
    return {
        "format": PROOF_FORMAT,
        "entry": base64.b64encode(entries[3]).decode(),
        "leaf_index": 3,
        "tree_size": 5,
        "inclusion_proof": [base64.b64encode(h).decode() for h in tree.inclusion_proof(3, 5)],
        "checkpoint": note,
        "public_keys": ring.public_info(),
    }


def _certificate(ring: KeyRing) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=300, height=300)
    writer.add_attachment("tamga-proof.json", json.dumps(_bundle(ring)).encode())
    out = io.BytesIO()
    writer.write(out)
    return ring.sign_pdf(out.getvalue())


def _run_copy(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", "-c", RUNNER, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
    )


def test_the_copied_file_verifies_a_certificate_alone(tmp_path: Path) -> None:
    ring = load_or_create_keyring(tmp_path / "keys", now=datetime(2026, 1, 1, tzinfo=UTC))
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(tamga_verify.__file__, alone / "tamga_verify.py")
    data = _certificate(ring)
    (alone / "cert.pdf").write_bytes(data)
    good = _run_copy(alone, "cert.pdf", "--key", ring.current.vkey)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "RESULT: all checks passed" in good.stdout
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x01
    (alone / "cert.pdf").write_bytes(bytes(changed))
    bad = _run_copy(alone, "cert.pdf", "--key", ring.current.vkey)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "verification FAILED" in bad.stdout


def test_the_runner_really_blocks_registry(tmp_path: Path) -> None:
    (tmp_path / "tamga_verify.py").write_text("import registry.core\n")
    result = _run_copy(tmp_path)
    assert result.returncode != 0 and "registry must not be imported" in result.stderr
