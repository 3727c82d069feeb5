"""Time-based one-time passwords (RFC 6238, HMAC-SHA1, 6 digits, 30-second steps) and
one-time recovery codes. Plain Python: the services keep the state (secret, last step
used, digests of the recovery codes) and pass it in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

DIGITS = 6
PERIOD = 30
#: Steps either side of now that are still accepted (a phone's clock may be a little off).
WINDOW = 1
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends; 32 base32 characters
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def new_secret() -> str:
    """A fresh shared secret in base32 (what authenticator apps take), no padding."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def step_at(unix_time: float) -> int:
    return int(unix_time // PERIOD)


def code_at_step(secret: str, step: int) -> str:
    """RFC 4226 HOTP of the step counter (RFC 6238 with T0 = 0, X = 30)."""
    digest = hmac.new(_key(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def code_at(secret: str, unix_time: float) -> str:
    return code_at_step(secret, step_at(unix_time))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace() and ch != "-").lower()


def matching_step(secret: str, code: str, unix_time: float, *,
                  last_step: int | None = None, window: int = WINDOW) -> int | None:
    """The step ``code`` belongs to (now ± ``window``), or None.

    A step at or before ``last_step`` (the last one accepted) never matches again: a code
    seen over someone's shoulder, or replayed from a captured request, is refused within
    its own window too.
    """
    code = normalise_code(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = step_at(unix_time)
    found = None
    for step in range(now - window, now + window + 1):
        # Compare every candidate (constant work whatever the code), keep the match.
        if hmac.compare_digest(code_at_step(secret, step), code) and found is None:
            found = step
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI authenticator apps read (from the QR code or pasted)."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1",
                       "digits": DIGITS, "period": PERIOD}, quote_via=quote)
    return f"otpauth://totp/{label}?{query}"


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Codes like ``k7mq-2xvd-h9pe`` (60 bits each): shown once, kept only as digests."""
    return ["-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4))
                     for _ in range(3)) for _ in range(count)]


def recovery_digest(code: str) -> str:
    """SHA-256 of the normalised code (random 60-bit codes need no slow hash)."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def use_recovery_code(digests: list[str], code: str) -> list[str] | None:
    """The digests left after spending ``code``, or None when it is not among them."""
    wanted = recovery_digest(code)
    matches = [d for d in digests if hmac.compare_digest(d, wanted)]
    if not matches:
        return None
    remaining = list(digests)
    remaining.remove(matches[0])
    return remaining
