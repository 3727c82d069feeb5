"""Registration times in UTC and in Almaty time.

Kazakhstan moved to a single time zone, UTC+5, on 1 March 2024 (00:00 local,
UTC+6, became 23:00 of 29 February): tzdata 2024a and later say so for
``Asia/Almaty``. The tzdata installed when this was written (system and the
``tzdata`` wheel 2026.6) gives +05:00. An older tzdata would still say +06:00;
for instants after the switch we then use a fixed UTC+5 offset instead, so a
certificate never prints a wrong local time, whatever database the host has.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ALMATY_SINGLE_ZONE_SINCE = datetime(2024, 2, 29, 18, 0, tzinfo=UTC)
ALMATY_OFFSET_SINCE_2024 = timedelta(hours=5)
_FIXED_ALMATY = timezone(ALMATY_OFFSET_SINCE_2024, "Asia/Almaty")


def to_almaty(moment: datetime) -> datetime:
    """``moment`` (timezone-aware) as Almaty wall-clock time."""
    try:
        local = moment.astimezone(ZoneInfo("Asia/Almaty"))
    except ZoneInfoNotFoundError:
        local = None
    if moment >= ALMATY_SINGLE_ZONE_SINCE and (
        local is None or local.utcoffset() != ALMATY_OFFSET_SINCE_2024
    ):
        return moment.astimezone(_FIXED_ALMATY)
    if local is None:  # before the switch and no tz database: UTC+6 then
        return moment.astimezone(timezone(timedelta(hours=6), "Asia/Almaty"))
    return local


def format_offset(moment: datetime) -> str:
    """``UTC+05:00`` style offset of an aware datetime."""
    offset = moment.utcoffset() or timedelta(0)
    sign = "+" if offset >= timedelta(0) else "-"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_almaty(moment: datetime) -> str:
    local = to_almaty(moment)
    return f"{local:%Y-%m-%d %H:%M:%S} {format_offset(local)}"
