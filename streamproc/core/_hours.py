"""Staffed moderation hours: weekdays and times in the institution's zone, minus holidays."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from streamproc.core._policy import Hours

__all__ = ["ModerationHours"]


@functools.lru_cache(maxsize=64)
def _calendar(country: str, subdivision: str | None, year: int) -> Any:
    """A year's holidays, computed once per process: every engine (one per policy version)
    reads the same calendar, and computing one takes milliseconds."""
    return holidays.country_holidays(country, subdiv=subdivision, years=year)


class ModerationHours:
    def __init__(self, hours: Hours) -> None:
        self.hours = hours
        self.zone = ZoneInfo(hours.timezone)

    def is_holiday(self, day: date) -> bool:
        if self.hours.holidays_country is None:
            return False
        return day in _calendar(
            self.hours.holidays_country, self.hours.holidays_subdivision, day.year
        )

    def warm(self, now: datetime) -> None:
        """Compute this year's calendar now rather than on the first escalation."""
        self.is_holiday(now.astimezone(self.zone).date())

    def _working_day(self, day: date) -> bool:
        return day.weekday() in self.hours.days and not self.is_holiday(day)

    def is_open(self, when: datetime) -> bool:
        """Whether people are moderating at ``when`` (an aware datetime)."""
        local = when.astimezone(self.zone)
        return (
            self._working_day(local.date())
            and self.hours.start <= local.time().replace(tzinfo=None) < self.hours.end
        )

    def next_open(self, when: datetime) -> datetime:
        """The start of the first moderation window at or after ``when``."""
        local = when.astimezone(self.zone)
        day = local.date()
        if self._working_day(day) and local.time().replace(tzinfo=None) < self.hours.start:
            return self._at(day)
        if self.is_open(when):
            return when.astimezone(self.zone)
        for _ in range(366):
            day += timedelta(days=1)
            if self._working_day(day):
                return self._at(day)
        raise ValueError("no moderation window within a year: check moderation_hours")

    def _at(self, day: date) -> datetime:
        return datetime.combine(day, self.hours.start, tzinfo=self.zone)
