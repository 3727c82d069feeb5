"""The domain's error types.

The core raises these and never aborts a request; the web layer maps each
``code`` to an HTTP status and a translated message in one place.

An error a user may read carries a ``reason`` (a key of :data:`MESSAGES`) and
``params``: the core never translates, and its English text is only the default
(logs, the command line). The web and API layers look the reason's English
template up in the gettext catalogues in the request's language
(:func:`registry.i18n.error_message`). ``code`` stays the coarse, stable error
code the API has always sent (``too_long``, ``corrupt``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self


def N_(text: str) -> str:
    """Mark ``text`` for the gettext catalogues without translating it (pybabel's ``N_``)."""
    return text


#: Every message the core shows a user: reason -> English template (the gettext msgid).
#: Parameters are ``%(name)s``; string parameters are translated too when the
#: catalogues know them (the file type names below).
MESSAGES: dict[str, str] = {
    # intake (media.py)
    "file_empty": N_("The file is empty."),
    "row_missing": N_("%(row)s no longer exists."),
    "file_too_large": N_("The file is larger than the limit of %(megabytes)s MB."),
    "unsupported_type": N_("Unsupported file type: %(kind)s."),
    "unsupported_codec": N_("Unsupported file type: %(container)s container with %(codec)s "
                            "audio."),
    "unsupported_video_container": N_("Unsupported file type: %(container)s video."),
    "read_timeout": N_("The file could not be read in reasonable time."),
    "undecodable": N_("The file is damaged or truncated and cannot be decoded."),
    "unanalysable": N_("The file could not be analysed."),
    "no_readable_audio": N_("The file contains no readable audio."),
    "no_audio_track": N_("The file contains no audio track."),
    "audio_length_unknown": N_("The length of the audio could not be determined; the file "
                               "is damaged."),
    "wav_truncated": N_("The WAV file is truncated: %(missing)s bytes of audio are missing."),
    "audio_too_short": N_("The recording lasts %(duration)s s; at least %(minimum)s s of "
                          "audio are needed."),
    "audio_too_long": N_("The recording lasts %(minutes)s min; the limit is %(limit)s min."),
    # fingerprints (audio.py, audio_peaks.py)
    "fpcalc_missing": N_("The audio fingerprinter (fpcalc) is not installed."),
    "fingerprint_failed": N_("The audio could not be fingerprinted."),
    "audio_undecodable": N_("The audio is damaged and cannot be decoded."),
    "audio_truncated": N_("The file appears truncated or damaged: it announces %(announced)s s "
                          "but only about %(decoded)s s of audio could be decoded."),
    "no_audio": N_("The file contains no audio."),
    "too_little_audio": N_("Too little audio could be decoded; at least %(minimum)s s are "
                           "needed."),
    "silent": N_("The recording is silent (no audible sound was found)."),
    # pictures (image.py, image_features.py)
    "image_type_refused": N_("This file is not a picture type we accept."),
    "image_format_refused": N_("Pictures of type %(format)s are not accepted."),
    "image_undecodable": N_("The picture could not be decoded; the file is damaged or "
                            "truncated."),
    "too_many_pixels": N_("The picture has too many pixels."),
    "too_many_pixels_limit": N_("The picture has %(pixels)s pixels; the limit is %(limit)s."),
    "image_too_small": N_("The picture is %(width)sx%(height)s pixels; at least %(minimum)s on "
                          "each side is needed."),
    "featureless": N_("The picture is a flat colour with nothing to recognise it by."),
    # video (video.py, kinds/video.py)
    "video_undecodable": N_("The video is damaged and cannot be decoded."),
    "video_no_streams": N_("The video has neither a picture nor a sound track."),
    "video_nothing_usable": N_("The video has neither a usable picture nor sound."),
    "video_too_long": N_("The video lasts %(minutes)s min; the limit is %(limit)s min."),
    "video_too_short": N_("The video is shorter than a second."),
    "video_length_unknown": N_("The length of the video could not be determined; the file "
                               "is damaged."),
    # IIN (iin.py)
    "iin_digits": N_("An IIN contains digits only."),
    "iin_length": N_("An IIN has exactly 12 digits."),
    "iin_century": N_("The 7th digit of an IIN (century and sex) must be 1 to 6."),
    "iin_date": N_("The first six digits of the IIN must be a real birth date (YYMMDD)."),
    "iin_future": N_("The birth date encoded in the IIN is in the future."),
    "iin_no_checksum": N_("No valid IIN can start with these eleven digits."),
    "iin_checksum": N_("The last digit of the IIN (the check digit) does not match: check "
                       "for a typo."),
    # the public ledger (ledger/store.py, evidence.py)
    "ledger_leaf_outside": N_("Entry %(index)s is not in a ledger of %(size)s entries."),
    "ledger_no_consistency": N_("There is no consistency proof from size %(old)s to size "
                                "%(new)s."),
    "ledger_too_small": N_("The ledger has only %(current)s entries."),
    "ledger_entry_not_checkpointed": N_("No checkpoint of the ledger includes this entry yet."),
    "ledger_entries_not_checkpointed": N_("No checkpoint of the ledger covers these entries "
                                          "yet."),
    # certificates and reports (certificates/i18n.py)
    "certificate_language": N_("Unsupported certificate language: %(lang)s."),
}

class TamgaError(Exception):
    """Base of every domain error: a stable ``code`` and a human message.

    ``reason`` and ``params`` (see :data:`MESSAGES`) let the edge translate the
    message; ``message`` is the English default, or a lazily translated string a
    service built itself.
    """

    code = "error"
    http_status = 400

    def __init__(self, message: object, *, reason: str | None = None,
                 params: Mapping[str, object] | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.params: dict[str, object] = dict(params or {})
        self.details = details

    @classmethod
    def because(cls, reason: str, params: Mapping[str, object] | None = None,
                **details: object) -> Self:
        """The error for ``reason`` (a key of :data:`MESSAGES`), its English text filled in."""
        values = dict(params or {})
        return cls(MESSAGES[reason] % values, reason=reason, params=values, **details)


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


class Busy(TamgaError):
    """Every slot for heavy work (decoding a query) is taken; try again shortly."""

    code = "busy"
    http_status = 503
    retry_after_s = 5


class BadInput(TamgaError):
    """A request no form or schema could mean: NUL characters, numbers beyond any id."""

    code = "bad_request"
    http_status = 400


class BackupError(TamgaError):
    """A backup cannot be made or restored (``flask backup``); the message says why."""

    code = "backup_failed"
    http_status = 500
