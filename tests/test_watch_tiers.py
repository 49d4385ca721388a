"""`statutory.chase_tier`: which chasing tier a step is in on a given day (the only date arithmetic of the watch)."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from models.statutory import Chase, chase_tier

DUE = dt.date(2025, 3, 28)  # a Friday


def on(days: int) -> dt.date:
    return DUE + dt.timedelta(days=days)


def test_tiers_across_a_steps_life():
    assert chase_tier(DUE, on(-11)) is None
    assert chase_tier(DUE, on(-10)) == Chase("reminder", dt.date(2025, 3, 18), 10)
    assert chase_tier(DUE, on(-4)) == Chase("reminder", dt.date(2025, 3, 18), 10)
    assert chase_tier(DUE, on(-3)) == Chase("reminder", dt.date(2025, 3, 25), 3)
    assert chase_tier(DUE, on(-1)) == Chase("reminder", dt.date(2025, 3, 25), 3)
    assert chase_tier(DUE, DUE) == Chase("due_today", DUE, 0)
    assert chase_tier(DUE, on(1)) == Chase("overdue", dt.date(2025, 3, 29), 1)
    assert chase_tier(DUE, on(7)) == Chase("overdue", dt.date(2025, 3, 29), 1)
    assert chase_tier(DUE, on(8)) == Chase("still_overdue", dt.date(2025, 4, 5), 2)
    assert chase_tier(DUE, on(15)) == Chase("still_overdue", dt.date(2025, 4, 12), 3)
    assert chase_tier(DUE, on(364)) == Chase("still_overdue", dt.date(2026, 3, 21), 52)


def test_reminder_days_and_repeat_are_configurable():
    assert chase_tier(DUE, on(-30), reminder_days=(28, 56)) == Chase("reminder", on(-56), 56)
    assert chase_tier(DUE, on(-28), reminder_days=(28, 56)) == Chase("reminder", on(-28), 28)
    assert chase_tier(DUE, on(5), repeat_every=3) == Chase("still_overdue", on(4), 2)


def test_no_reminder_on_or_before_the_step_started():
    """A step asked for 5 days before its date gets no 10-day reminder; a 3-day one, yes."""
    start = on(-5)
    assert chase_tier(DUE, on(-4), start=start) is None
    assert chase_tier(DUE, on(-3), start=start) == Chase("reminder", on(-3), 3)
    assert chase_tier(DUE, on(-3), start=on(-3)) is None
    assert chase_tier(DUE, on(1), start=on(-1)) == Chase("overdue", on(1), 1)


@given(due=st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)), offset=st.integers(-60, 800),
       reminders=st.lists(st.integers(1, 90), min_size=1, max_size=4), repeat=st.integers(1, 28))
def test_a_tier_has_fallen_due_and_is_the_latest_one(due, offset, reminders, repeat):
    today = due + dt.timedelta(days=offset)
    chase = chase_tier(due, today, reminders, repeat)
    if chase is None:
        assert today < due - dt.timedelta(days=max(reminders))
        return
    assert chase.on <= today
    tomorrow = chase_tier(due, today + dt.timedelta(days=1), reminders, repeat)
    assert tomorrow.on >= chase.on  # tiers only move forward
    if chase.tier in ("overdue", "still_overdue"):
        assert chase.on > due and (today - chase.on).days < repeat
        assert (chase.on - due).days == 1 + (chase.level - 1) * repeat
    if chase.tier == "reminder":
        assert chase.level in reminders and today < due
