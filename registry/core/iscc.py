"""ISCC codes (ISO 24138) with the ``iscc-core`` reference implementation.

The composite ISCC-CODE joins a Content-Code (audio: from the Chromaprint
vector; image: from 32×32 grey pixels), a Data-Code and an Instance-Code, both
computed from the file's bytes.
"""

from __future__ import annotations

from pathlib import Path

import iscc_core
import numpy as np
from PIL import Image


def _signed32(items: np.ndarray) -> list[int]:
    return np.asarray(items, dtype=np.uint32).view(np.int32).astype(int).tolist()


def audio_content_code(items: np.ndarray) -> str:
    return iscc_core.gen_audio_code_v0(_signed32(items), bits=64)["iscc"]


def image_content_code(image: Image.Image) -> str:
    """Content-Code of an already normalised RGB image (orientation, alpha handled)."""
    grey = image.convert("L").resize((32, 32), Image.Resampling.BICUBIC)
    pixels = np.asarray(grey, dtype=np.uint8).ravel().tolist()
    return iscc_core.gen_image_code_v0(pixels, bits=64)["iscc"]


def _file_codes(path: Path) -> tuple[str, str]:
    with path.open("rb") as stream:
        data = iscc_core.gen_data_code_v0(stream, bits=64)["iscc"]
    with path.open("rb") as stream:
        instance = iscc_core.gen_instance_code_v0(stream, bits=64)["iscc"]
    return data, instance


def iscc_code(content_code: str, path: Path) -> str:
    """The composite ISCC-CODE for a file with its Content-Code."""
    data, instance = _file_codes(path)
    return iscc_core.gen_iscc_code_v0([content_code, data, instance])["iscc"]
