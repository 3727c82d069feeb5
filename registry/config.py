"""Settings from the environment, with safe defaults for a laptop.

Every variable has the ``TAMGA_`` prefix; ``DATABASE_URL`` and ``REDIS_URL``
are also read without it because hosting platforms set them that way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"TAMGA_{name}", default)


def _env_bool(name: str, default: bool = False) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value not in (None, "") else default


def served_base_url() -> str:
    """The address ``make run`` / ``make serve-gunicorn`` serve on (``HOST``, ``PORT``):
    the base of every link when ``TAMGA_BASE_URL`` is unset. Never a request header."""
    host = (os.environ.get("HOST") or "127.0.0.1").strip()
    if host in ("", "0.0.0.0", "::", "[::]"):  # all interfaces: this machine's loopback
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = (os.environ.get("PORT") or "5000").strip()
    return f"http://{host}:{port}"


def _env_list(name: str) -> list[str] | None:
    value = _env(name)
    if value is None or not value.strip():
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def instance_path() -> Path:
    return Path(_env("INSTANCE_PATH") or PROJECT_ROOT / "instance").resolve()


# Optional settings: read from the environment only when set, so that the
# defaults written beside the code that uses them apply otherwise.
OPTIONAL_TEXT = (
    "LOOKUP_LIMIT_ANON", "LOOKUP_LIMIT_USER", "LOOKUP_LIMIT_TOKEN", "API_RATE_LIMIT",
    "NUMBER_PREFIX", "LEDGER_ORIGIN", "KEYS_DIR", "WORKER", "TSA_URLS", "WITNESSES",
)
OPTIONAL_INT = ("DISPUTE_RESPONSE_DAYS", "MAX_PIXELS", "MAX_VIDEO_SECONDS",
                "LOOKUP_MAX_SECONDS", "LOOKUP_CONCURRENCY", "MAX_MERGE_SECONDS")
OPTIONAL_FLOAT = ("CHECKPOINT_INTERVAL", "ATTEST_TIMEOUT", "JOB_LEASE_SECONDS",
                  "JOB_RETRY_SECONDS", "JOB_RETRY_CAP_SECONDS", "JOB_POLL_SECONDS",
                  "SMTP_TIMEOUT", "KEY_COUNTS_REFRESH")
OPTIONAL_LIST = ("LOOKUP_LIMIT_EXEMPT",)


def _optional_settings() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in OPTIONAL_TEXT:
        if _env(name):
            found[f"TAMGA_{name}"] = _env(name)
    for name in OPTIONAL_INT:
        if _env(name):
            found[f"TAMGA_{name}"] = int(_env(name) or 0)
    for name in OPTIONAL_FLOAT:
        if _env(name):
            found[f"TAMGA_{name}"] = float(_env(name) or 0)
    for name in OPTIONAL_LIST:
        if _env(name):
            found[f"TAMGA_{name}"] = [v.strip() for v in (_env(name) or "").split(",") if v.strip()]
    return found


def load_config(instance: Path) -> dict[str, Any]:
    """Build the settings dictionary; ``instance`` is where local state lives."""
    redis_url = _env("REDIS_URL") or os.environ.get("REDIS_URL") or None
    database_url = (
        _env("DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or f"sqlite:///{instance / 'tamga.db'}"
    )
    max_upload_mb = _env_int("MAX_UPLOAD_MB", 200)
    return {
        "SECRET_KEY": _env("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "TAMGA_STORAGE_DIR": _env("STORAGE_DIR") or str(instance / "storage"),
        "TAMGA_OUTBOX_DIR": _env("OUTBOX_DIR") or str(instance / "outbox"),
        "TAMGA_MAX_UPLOAD_BYTES": max_upload_mb * 1024 * 1024,
        # Room for the multipart envelope and supporting files around the main file.
        "MAX_CONTENT_LENGTH": (max_upload_mb + 50) * 1024 * 1024,
        "TAMGA_REDIS_URL": redis_url,
        "TAMGA_BASE_URL": _env("BASE_URL") or served_base_url(),
        # Host names requests may carry; unset: the base URL's host and loopback only.
        "TAMGA_TRUSTED_HOSTS": _env_list("TRUSTED_HOSTS"),
        "TAMGA_DEFAULT_TIMEZONE": _env("DEFAULT_TIMEZONE", "Asia/Almaty"),
        "TAMGA_PROXY_FIX": _env_bool("PROXY_FIX"),
        "TAMGA_CONFIRM_MAX_AGE": _env_int("CONFIRM_MAX_AGE", 3 * 24 * 3600),
        "TAMGA_RESET_MAX_AGE": _env_int("RESET_MAX_AGE", 2 * 3600),
        "TAMGA_LOGIN_LIMIT_ACCOUNT": _env("LOGIN_LIMIT_ACCOUNT", "5 per 15 minutes"),
        "TAMGA_LOGIN_LIMIT_ADDRESS": _env("LOGIN_LIMIT_ADDRESS", "20 per 15 minutes"),
        # Wrong two-factor codes per pending login (and per account on its own pages).
        "TAMGA_TWO_FACTOR_LIMIT": _env("TWO_FACTOR_LIMIT", "5 per 5 minutes"),
        "MAIL_SERVER": _env("SMTP_HOST"),
        "MAIL_PORT": _env_int("SMTP_PORT", 587),
        "MAIL_USERNAME": _env("SMTP_USER"),
        "MAIL_PASSWORD": _env("SMTP_PASSWORD"),
        "MAIL_USE_TLS": _env_bool("SMTP_TLS", True),
        "MAIL_DEFAULT_SENDER": _env("MAIL_FROM", "Tamga <no-reply@tamga.kz>"),
        # Where people write about their data and the trust pages' questions.
        "TAMGA_CONTACT_EMAIL": _env("CONTACT_EMAIL", "help@tamga.kz"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # Redis down: the same limits are counted in this process's memory (a warning
        # is logged) until Redis answers again, so nothing answers 500 and logins stay
        # limited; see README "When Redis is down".
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_STORAGE_OPTIONS": ({"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
                                      if redis_url else {}),
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": ["kk", "ru", "en", "ky", "uz"],
        **_optional_settings(),
    }
