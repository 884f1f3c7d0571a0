"""Billing periods: when a tenant's budget month starts and when it resets.

A period runs from one anchor occurrence to the next. The anchor's day of month is kept
(31 stays 31 in March), clamped to the month's last day when the month is shorter.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime


def _occurrence(anchor: datetime, year: int, month: int) -> datetime:
    anchor = anchor.astimezone(UTC)
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def _shift(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def next_reset_after(anchor: datetime, after: datetime) -> datetime:
    """The first anchor occurrence strictly after `after`."""
    after = after.astimezone(UTC)
    year, month = _shift(after.year, after.month, -1)
    for _ in range(3):
        candidate = _occurrence(anchor, year, month)
        if candidate > after:
            return candidate
        year, month = _shift(year, month, 1)
    raise AssertionError("unreachable: an occurrence exists within two months")


def period_containing(anchor: datetime, at: datetime) -> tuple[datetime, datetime]:
    """(start, end) of the period that contains `at`: start <= at < end."""
    end = next_reset_after(anchor, at)
    year, month = _shift(end.year, end.month, -1)
    return _occurrence(anchor, year, month), end
