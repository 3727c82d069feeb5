"""The one formatter for every date and time a person reads.

Web pages, notifications, e-mails and the dispute comparison panel all call
``format_moment``: the viewer's language, the viewer's time zone, one shape
("14 желтоқсан 2026, 01:23 (UTC+5)"). Stored values are UTC datetimes or
RFC 3339 strings (as kept in JSON columns). Plain Python: no Flask here.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

STYLES = ("short", "medium", "long")


def parse_moment(value: datetime | str | None) -> datetime | None:
    """A datetime from a datetime or an ISO/RFC 3339 string; naive values are UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def zone_label(moment: datetime) -> str:
    """``UTC+5``, ``UTC+5:30`` or ``UTC`` for an aware datetime."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def format_moment(value: datetime | str | None, locale: str, zone: str | tzinfo,
                  style: str = "medium") -> str:
    """``value`` in ``zone``, written for ``locale``.

    ``short``: date and time; ``medium`` (default): with the year spelled out;
    ``long``: with the zone's offset, for deadlines and registration times.
    """
    moment = parse_moment(value)
    if moment is None:
        return str(value or "")
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    local = moment.astimezone(tz)
    date_style = "short" if style == "short" else "long"
    day = format_date(local, date_style, locale=locale)
    text = f"{day}, {format_time(local, 'HH:mm', locale=locale)}"
    if style == "long":
        text += f" ({zone_label(local)})"
    return text
