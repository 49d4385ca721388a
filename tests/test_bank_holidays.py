"""The engine's working-day calendar against the GOV.UK bank-holidays feed (England and Wales), 2019-2027,
and the vendored reference files against their origin."""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pytest

from models import statutory

REFERENCE = Path(__file__).parent / "reference"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"  # ../shared beside the repository, if any
BANK_HOLIDAYS = "govuk-bank-holidays-2019-2027.json"
ORIGINS = {
    BANK_HOLIDAYS: SHARED / "reference" / "bank-holidays" / BANK_HOLIDAYS,
    "statutory-timescales.md": SHARED / "statutory-timescales.md",
}
FIRST, LAST = dt.date(2019, 1, 1), dt.date(2027, 12, 31)


def _listed_checksums(readme: Path) -> dict[str, str]:
    return {m[2]: m[1] for m in re.finditer(r"^([0-9a-f]{64})  (\S+)$", readme.read_text(encoding="utf-8"), re.M)}


def _govuk_holidays() -> set[dt.date]:
    feed = json.loads((REFERENCE / BANK_HOLIDAYS).read_text(encoding="utf-8"))
    return {dt.date.fromisoformat(e["date"]) for e in feed["england-and-wales"]["events"]}


HOLIDAYS = _govuk_holidays()
ALL_DAYS = [FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
# The oracle: every working day of 2019-2027 by the GOV.UK file alone, in order.
WORKING = [d for d in ALL_DAYS if d.weekday() < 5 and d not in HOLIDAYS]


@pytest.mark.parametrize("name", sorted(ORIGINS))
def test_vendored_reference_is_unchanged(name):
    """Each vendored file has the checksum its README lists; where ../shared is beside the repository, it is
    also byte-identical to its origin there (so a change to the shared copy is caught)."""
    data = (REFERENCE / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == _listed_checksums(REFERENCE / "README.md")[name]
    origin = ORIGINS[name]
    if origin.exists():
        assert data == origin.read_bytes(), f"tests/reference/{name} differs from {origin}"


def test_vendored_bank_holidays_checksum_is_the_one_the_shared_reference_lists():
    """The checksum in tests/reference/README.md is the one published with the shared reference set."""
    listed = _listed_checksums(REFERENCE / "README.md")[BANK_HOLIDAYS]
    assert listed == "775949e6188a25f061180a4ac29ba18105f1bfd77dc3355b00cb566cacff04d8"
    shared_readme = SHARED / "reference" / "README.md"
    if shared_readme.exists():
        assert _listed_checksums(shared_readme)[f"bank-holidays/{BANK_HOLIDAYS}"] == listed


def test_feed_covers_the_years_and_the_one_off_holidays():
    assert len(HOLIDAYS) == 75 and min(HOLIDAYS).year == 2019 and max(HOLIDAYS).year == 2027
    one_offs = {dt.date(2020, 5, 8), dt.date(2022, 6, 3), dt.date(2022, 9, 19), dt.date(2023, 5, 8)}
    assert one_offs <= HOLIDAYS


def test_is_working_day_agrees_with_govuk_for_every_date():
    wrong = [d for d in ALL_DAYS if statutory.is_working_day(d) != (d.weekday() < 5 and d not in HOLIDAYS)]
    assert wrong == []


def test_moved_and_one_off_holidays():
    assert statutory.is_working_day(dt.date(2020, 5, 4))  # 2020's early May holiday moved to Fri 8 May (VE day)
    assert not statutory.is_working_day(dt.date(2020, 5, 8))
    assert not statutory.is_working_day(dt.date(2023, 5, 8))  # Coronation
    assert not statutory.is_working_day(dt.date(2022, 9, 19))  # State Funeral
    assert not statutory.is_working_day(dt.date(2021, 12, 28))  # substitute for Christmas on a Saturday


@pytest.mark.parametrize("n", [1, 3, 15])
def test_working_day_counting_agrees_with_govuk_for_every_date(n):
    """'within N working days of D' is the N-th working day after D; 'N working days beginning with D' counts D
    as day 1 when it is a working day; the next working day is D itself or the first after it."""
    stop = WORKING[-n - 1]
    for d in ALL_DAYS:
        if d >= stop:
            break
        after = bisect.bisect_right(WORKING, d)
        from_d = bisect.bisect_left(WORKING, d)
        assert statutory.within_working_days(d, n) == WORKING[after + n - 1], d
        assert statutory.working_days_beginning_with(d, n) == WORKING[from_d + n - 1], d
        assert statutory.next_working_day(d) == WORKING[from_d], d


def r12_from_govuk(d: dt.date) -> dt.date:
    """r12 for SEN cases read straight off the GOV.UK calendar: 25 Dec-1 Jan → first working day after 1 Jan;
    August → first working day after 31 Aug; otherwise the date itself or the next working day."""
    if (d.month, d.day) >= (12, 25):
        return WORKING[bisect.bisect_right(WORKING, dt.date(d.year + 1, 1, 1))]
    if (d.month, d.day) == (1, 1):
        return WORKING[bisect.bisect_right(WORKING, d)]
    if d.month == 8:
        return WORKING[bisect.bisect_right(WORKING, dt.date(d.year, 8, 31))]
    return WORKING[bisect.bisect_left(WORKING, d)]


def test_tribunal_roll_forward_agrees_with_govuk():
    """Every date of 2019-2026."""
    for d in ALL_DAYS:
        if d.year == 2027:
            break
        assert statutory.tribunal_roll_forward(d) == r12_from_govuk(d), d
