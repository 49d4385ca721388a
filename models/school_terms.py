"""The school year's terms, by the project's convention (calendar terms: autumn September-December, spring
January-March, summer April-August): a review opens a term ahead, and each SENCO gets the term's list."""

from __future__ import annotations

import calendar
import datetime as dt

TERMS = (("autumn", 9, 12), ("spring", 1, 3), ("summer", 4, 8))  # name, first month, last month


def term_of(on: dt.date) -> tuple[str, dt.date, dt.date]:
    """The school term containing `on`, as (label, first day, last day)."""
    for name, first, last in TERMS:
        if first <= on.month <= last:
            end = dt.date(on.year, last, calendar.monthrange(on.year, last)[1])
            return f"{on.year}-{name}", dt.date(on.year, first, 1), end
    raise AssertionError(on)
