"""Which days a month, week and day view of the calendar show."""

from __future__ import annotations

from datetime import date

from crm.calendar.selectors import calendar_period

MONDAY, SUNDAY, SATURDAY = 0, 6, 5


def test_a_week_starts_on_the_locales_first_day():
    # 2026-12-09 is a Wednesday.
    monday_week = calendar_period(view="week", anchor=date(2026, 12, 9), first_weekday=MONDAY)
    sunday_week = calendar_period(view="week", anchor=date(2026, 12, 9), first_weekday=SUNDAY)

    assert (monday_week.first, monday_week.last) == (date(2026, 12, 7), date(2026, 12, 13))
    assert (sunday_week.first, sunday_week.last) == (date(2026, 12, 6), date(2026, 12, 12))
    assert len(monday_week.days) == 7
    assert (monday_week.previous, monday_week.next) == (date(2026, 12, 2), date(2026, 12, 16))


def test_a_month_shows_whole_weeks_around_it():
    period = calendar_period(view="month", anchor=date(2026, 12, 15), first_weekday=MONDAY)

    # December 2026 starts on a Tuesday and ends on a Thursday.
    assert period.first == date(2026, 11, 30)
    assert period.last == date(2027, 1, 3)
    assert len(period.days) % 7 == 0
    assert (period.previous, period.next) == (date(2026, 11, 1), date(2027, 1, 1))


def test_a_month_that_starts_on_the_first_weekday_begins_with_its_first():
    # February 2026 starts on a Sunday; with Sunday-first weeks there is nothing before it.
    period = calendar_period(view="month", anchor=date(2026, 2, 10), first_weekday=SUNDAY)

    assert period.first == date(2026, 2, 1)
    assert period.last == date(2026, 2, 28)


def test_saturday_first_weeks_for_arabic_locales():
    period = calendar_period(view="week", anchor=date(2026, 12, 9), first_weekday=SATURDAY)

    assert period.first == date(2026, 12, 5)
    assert period.first.weekday() == SATURDAY


def test_a_day_view_is_one_day_with_its_neighbours():
    period = calendar_period(view="day", anchor=date(2026, 12, 31))

    assert period.days == [date(2026, 12, 31)]
    assert (period.previous, period.next) == (date(2026, 12, 30), date(2027, 1, 1))
