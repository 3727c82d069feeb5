"""The registry's settings as plain values, built once from the app config.

Services receive this object as an argument instead of reading ``current_app``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
            ),
            number_prefix=config.get("TAMGA_NUMBER_PREFIX", "KZ"),
            base_url=config["TAMGA_BASE_URL"].rstrip("/"),
            ledger_origin=config.get("TAMGA_LEDGER_ORIGIN") or "tamga.kz/ledger",
            keys_dir=keys_dir,
            keyring=load_or_create_keyring(keys_dir),
        )
