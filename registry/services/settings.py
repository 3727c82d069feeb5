"""The registry's settings as plain values, built once from the app config.

Services receive this object as an argument instead of reading ``current_app``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.core.ledger.attest import (
    Authority,
    WitnessTarget,
    parse_tsa_urls,
    parse_witnesses,
)
from registry.core.ledger.keys import KeyRing, load_or_create_keyring
from registry.core.media import MediaLimits
from registry.core.storage import ContentStore


@dataclass(frozen=True)
class RegistrySettings:
    store: ContentStore
    upload_dir: Path
    limits: MediaLimits
    number_prefix: str
    base_url: str
    ledger_origin: str
    keys_dir: Path
    keyring: KeyRing
    authorities: tuple[Authority, ...] = ()
    witnesses: tuple[WitnessTarget, ...] = ()
    checkpoint_interval: float = 1.0
    attest_timeout: float = 10.0
    #: A lookup decodes at most this many seconds from the start of an audio file.
    lookup_max_seconds: float = 120.0
    #: Heavy lookups (audio decoding) running at once in one process; others wait, then 503.
    lookup_concurrency: int = 2
    instance_dir: Path = Path("instance")
    #: A receipt promises the work is in the ledger within this many seconds.
    max_merge_seconds: int = 300

    @classmethod
    def from_config(cls, config: dict[str, Any], instance_path: str) -> RegistrySettings:
        storage = Path(config["TAMGA_STORAGE_DIR"])
        keys_dir = Path(config.get("TAMGA_KEYS_DIR") or Path(instance_path) / "keys")
        return cls(
            store=ContentStore(storage / "files"),
            upload_dir=storage / "incoming",
            limits=MediaLimits(
                max_bytes=config["TAMGA_MAX_UPLOAD_BYTES"],
                max_audio_seconds=config.get("TAMGA_MAX_AUDIO_SECONDS", 3 * 3600.0),
                min_audio_seconds=config.get("TAMGA_MIN_AUDIO_SECONDS", 3.0),
                max_pixels=config.get("TAMGA_MAX_PIXELS", 80_000_000),
                max_video_seconds=config.get("TAMGA_MAX_VIDEO_SECONDS", 4 * 3600.0),
            ),
            number_prefix=config.get("TAMGA_NUMBER_PREFIX", "KZ"),
            base_url=config["TAMGA_BASE_URL"].rstrip("/"),
            ledger_origin=config.get("TAMGA_LEDGER_ORIGIN") or "tamga.kz/ledger",
            keys_dir=keys_dir,
            keyring=load_or_create_keyring(keys_dir),
            authorities=tuple(parse_tsa_urls(config.get("TAMGA_TSA_URLS"))),
            witnesses=tuple(parse_witnesses(config.get("TAMGA_WITNESSES"))),
            checkpoint_interval=float(config.get("TAMGA_CHECKPOINT_INTERVAL", 1.0)),
            attest_timeout=float(config.get("TAMGA_ATTEST_TIMEOUT", 10.0)),
            lookup_max_seconds=float(config.get("TAMGA_LOOKUP_MAX_SECONDS") or 120),
            lookup_concurrency=int(config.get("TAMGA_LOOKUP_CONCURRENCY") or 2),
            instance_dir=Path(instance_path),
            max_merge_seconds=_positive(config.get("TAMGA_MAX_MERGE_SECONDS") or 300,
                                        "TAMGA_MAX_MERGE_SECONDS"),
        )


def _positive(value: Any, name: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    return number
