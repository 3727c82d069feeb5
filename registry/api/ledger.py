"""The ledger's public endpoints: checkpoints, entries, proofs and keys (RFC 9162 style)."""

from __future__ import annotations

import base64
import json

from flask import Blueprint, Response, abort, jsonify, request, url_for

from registry.core import tamga_verify as tv
from registry.core.errors import ValidationFailed
from registry.core.ledger import attestations as att
from registry.core.ledger import store, tiles
from registry.core.ledger.merkle import EMPTY_ROOT
from registry.extensions import csrf, db

bp = Blueprint("ledger", __name__, url_prefix="/api/v1/ledger")
csrf.exempt(bp)
MAX_ENTRIES = 1000


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _int_arg(name: str, minimum: int = 0) -> int:
    value = request.args.get(name, type=int)
    if value is None or value < minimum or value > 2**63 - 1:
        abort(400, description=f"'{name}' must be a whole number ≥ {minimum}")
    return value


def _conn():
    return db.session.connection()


@bp.get("/checkpoint")
def checkpoint():
    """The latest checkpoint, with the cosignatures its witnesses returned."""
    return _note(store.latest_checkpoint(_conn()))


@bp.get("/checkpoints/<int:size>")
def checkpoint_at(size: int):
    return _note(store.checkpoint_at(_conn(), size))


def _note(found: store.StoredCheckpoint | None, **headers: str) -> Response:
    """A checkpoint as its cosigned note (404 when there is none)."""
    if found is None:
        abort(404)
    return Response(att.cosigned_note(_conn(), found), mimetype="text/plain; charset=utf-8",
                    headers=headers)


@bp.get("/checkpoints/<int:size>/timestamps")
def timestamps(size: int):
    """The RFC 3161 time-stamps of one checkpoint; each is also served alone as DER."""
    found = store.checkpoint_at(_conn(), size)
    if found is None:
        abort(404)
    stamps = att.timestamps_at(_conn(), size)
    return jsonify(tree_size=size, message_sha256=tv.checkpoint_digest(found.note).hex(),
                   timestamps=[{
                       "tsa": t.authority, "gen_time": t.gen_time.isoformat(),
                       "response": _b64(t.response),
                       "url": url_for(".timestamp_der", size=size, number=i, _external=True),
                   } for i, t in enumerate(stamps)])


@bp.get("/checkpoints/<int:size>/timestamps/<int:number>")
def timestamp_der(size: int, number: int):
    stamps = att.timestamps_at(_conn(), size)
    if number >= len(stamps):
        abort(404)
    return Response(stamps[number].response, mimetype="application/timestamp-reply", headers={
        "Content-Disposition": f'attachment; filename="checkpoint-{size}-{number}.tsr"'})


@bp.get("/entries")
def entries():
    start = _int_arg("start")
    end = min(request.args.get("end", start + 100, type=int), start + MAX_ENTRIES,
              store.tree_size(_conn()))
    rows = store.get_entries(_conn(), start, end) if end > start else []
    return jsonify(entries=[{
        "leaf_index": row.leaf_index, "entry": json.loads(row.entry),
        "entry_b64": _b64(row.entry), "leaf_hash": _b64(row.leaf_hash),
        "created_at": row.created_at.isoformat() if row.created_at else None,
    } for row in rows], tree_size=store.tree_size(_conn()))


@bp.get("/proof/inclusion")
def inclusion():
    index, size = _int_arg("index"), _int_arg("size", 1)
    proof = store.inclusion_proof(_conn(), index, size)
    return jsonify(leaf_index=index, tree_size=size, proof=[_b64(h) for h in proof],
                   root_hash=_b64(store.root_at(_conn(), size)))


@bp.get("/proof/consistency")
def consistency():
    old, new = _int_arg("old", 1), _int_arg("new", 1)
    proof = store.consistency_proof(_conn(), old, new)
    return jsonify(old_size=old, new_size=new, proof=[_b64(h) for h in proof],
                   old_root=_b64(store.root_at(_conn(), old)),
                   new_root=_b64(store.root_at(_conn(), new)))


@bp.get("/keys")
def keys():
    published = store.published_keys(_conn())
    if request.args.get("format") == "text":
        return Response("".join(f"{k['vkey']}\n" for k in published), mimetype="text/plain")
    return jsonify(keys=published, empty_root=_b64(EMPTY_ROOT))


# C2SP tlog-tiles: the same log as static-looking files a mirror copies with plain GETs.
tiles_bp = Blueprint("tiles", __name__, url_prefix="/ledger")
IMMUTABLE = "public, max-age=31536000, immutable"


@tiles_bp.get("/checkpoint")
def tiled_checkpoint():
    return _note(store.latest_checkpoint(_conn()), **{"Cache-Control": "public, max-age=2"})


@tiles_bp.get("/tile/<path:rest>")
def tile(rest: str):
    try:
        ref = tiles.parse_tile_path(rest)
    except ValidationFailed:
        abort(404)
    latest = store.latest_checkpoint(_conn())
    size = latest.tree_size if latest else 0
    data = (tiles.entry_bundle(_conn(), ref, size) if ref.level is None
            else tiles.tile_hashes(_conn(), ref, size))
    return Response(data, mimetype="application/octet-stream",
                    headers={"Cache-Control": IMMUTABLE})
