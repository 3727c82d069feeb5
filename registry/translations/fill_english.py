"""English is the source language: its catalogue repeats each msgid as msgstr.

Run after `pybabel update` (``make translations-update`` does it), so that the
English catalogue is complete without hand work and stays in step with the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po


def fill(path: Path) -> int:
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale="en")
    filled = 0
    for message in catalogue:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            wanted = (message.id[0], message.id[1])
            if tuple(message.string) != wanted:
                message.string, filled = wanted, filled + 1
        elif message.string != message.id:
            message.string, filled = message.id, filled + 1
        message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalogue, width=100, omit_header=False)
    return filled


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else
                  Path(__file__).parent / "en" / "LC_MESSAGES" / "messages.po")
    print(f"{fill(target)} English entries filled in {target}")
