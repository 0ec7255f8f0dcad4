"""Vietnamese display of dates and numbers (dd/mm/yyyy and a decimal comma), and the Vietnam day.

Stored timestamps are naive UTC. Every rule that speaks of "today", "past", "future" or a
day's deadline uses the Vietnam calendar day (UTC+7 all year, no daylight saving), never
the server's own date: from 00:00 to 07:00 in Vietnam the UTC date is still yesterday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

VN_TZ = timezone(timedelta(hours=7))


def vn_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y")


def vn_datetime(value: datetime | None) -> str:
    """Stored timestamps are naive UTC; officers read Vietnam time."""
    if value is None:
        return ""
    local = value.replace(tzinfo=UTC).astimezone(VN_TZ)
    return local.strftime("%d/%m/%Y %H:%M")


def vn_number(value: int | float | Decimal | None, places: int | None = None) -> str:
    """12345.5 -> '12.345,5' (thousands with a dot, decimals with a comma)."""
    if value is None:
        return ""
    if places is not None:
        text = f"{Decimal(value):,.{places}f}"
    else:
        text = f"{value:,}" if isinstance(value, int) else f"{Decimal(str(value)).normalize():,f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


MINUS = "\u2212"  # the minus sign, not a hyphen


def vn_points(value: int | float | Decimal | None, kind: str = "scored") -> str:
    """Points as a score table shows them: a deduction carries its sign, "−1" (U+2212), not "1"."""
    if value is None:
        return ""
    text = vn_number(value)
    return MINUS + text if kind == "deduction" and value != 0 else text


def long_vn_date(value: date) -> str:
    """'ngày 10 tháng 10 năm 2023', as on the place-and-date line of a document."""
    return f"ngày {value.day:02d} tháng {value.month:02d} năm {value.year}"


def vn_now() -> datetime:
    """The wall clock in Vietnam (timezone-aware)."""
    return datetime.now(VN_TZ)


def vn_today() -> date:
    """Today in Vietnam: the only "today" for dates officers enter or read (signing dates, expiry days)."""
    return vn_now().date()


def vn_end_of_day(day: date) -> datetime:
    """The last second of `day` in Vietnam, as the naive UTC timestamp the database keeps (deadlines)."""
    local = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=VN_TZ)
    return local.astimezone(UTC).replace(tzinfo=None)


def vn_day_of(value: datetime | None) -> date | None:
    """The Vietnam calendar day of a stored naive UTC timestamp (to prefill a deadline field)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(VN_TZ).date()
