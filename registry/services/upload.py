"""An uploaded file as the services receive it, from any channel (form, API, CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO


@dataclass
class Upload:
    stream: BinaryIO
    filename: str
