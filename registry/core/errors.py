"""The domain's error types.

The core raises these and never aborts a request; the web layer maps each
``code`` to an HTTP status and a translated message in one place.
"""

from __future__ import annotations


class TamgaError(Exception):
    """Base of every domain error: a stable ``code`` and a human message."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class MediaError(TamgaError):
    """Something is wrong with an uploaded file."""

    code = "invalid_media"
    http_status = 422


class EmptyFile(MediaError):
    code = "empty_file"


class UnsupportedMediaType(MediaError):
    code = "unsupported_type"
    http_status = 415


class FileTooLarge(MediaError):
    code = "too_large"
    http_status = 413


class CorruptMedia(MediaError):
    code = "corrupt"


class MediaTooShort(MediaError):
    code = "too_short"


class MediaTooLong(MediaError):
    code = "too_long"


class SilentAudio(MediaError):
    code = "silent"


class ImageTooSmall(MediaError):
    code = "image_too_small"


class FeaturelessImage(MediaError):
    code = "featureless"


class TooManyPixels(MediaError):
    code = "too_many_pixels"
    http_status = 413


class FingerprintError(MediaError):
    """The fingerprinter failed on a file that looked valid."""

    code = "fingerprint_failed"


class LedgerError(TamgaError):
    code = "ledger_error"
    http_status = 500


class VerificationError(TamgaError):
    """A proof, signature or hash did not verify."""

    code = "verification_failed"


class NotFound(TamgaError):
    code = "not_found"
    http_status = 404


class PermissionDenied(TamgaError):
    code = "forbidden"
    http_status = 403


class Conflict(TamgaError):
    code = "conflict"
    http_status = 409


class ValidationFailed(TamgaError):
    code = "validation_failed"
    http_status = 422
