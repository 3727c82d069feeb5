"""The fonts every Tamga PDF uses, shipped inside the package.

DejaVu Sans covers the whole Kazakh Cyrillic alphabet (ә ғ қ ң ө ұ ү һ і and
their capitals), so a clone without the Debian fonts package still renders
certificates. reportlab embeds a subset of each TrueType font (``FontFile2``).
"""

from __future__ import annotations

from pathlib import Path
from threading import Lock

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).parent / "fonts"

SANS = "TamgaSans"
SANS_BOLD = "TamgaSans-Bold"
MONO = "TamgaMono"

_FILES = {
    SANS: "DejaVuSans.ttf",
    SANS_BOLD: "DejaVuSans-Bold.ttf",
    MONO: "DejaVuSansMono.ttf",
}

_lock = Lock()
_registered = False


def register_fonts() -> None:
    """Register the fonts with reportlab once per process (idempotent, thread-safe)."""
    global _registered
    with _lock:
        if _registered:
            return
        for name, filename in _FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
        # <b> inside a Paragraph in TamgaSans switches to the bold face.
        addMapping(SANS, 0, 0, SANS)
        addMapping(SANS, 1, 0, SANS_BOLD)
        addMapping(SANS, 0, 1, SANS)
        addMapping(SANS, 1, 1, SANS_BOLD)
        addMapping(MONO, 0, 0, MONO)
        addMapping(MONO, 1, 0, MONO)
        addMapping(MONO, 0, 1, MONO)
        addMapping(MONO, 1, 1, MONO)
        _registered = True
