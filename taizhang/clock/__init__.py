"""Time service of Taizhang: working-day calendar and deadline arithmetic (the only place deadlines are computed)."""

from .calendar import CalendarDataError, CalendarYearUnknown, ClockError, WorkCalendar
from .clock import UNITS, Clock, Duration, get_clock, parse_unit, reset_clock

__all__ = [
    "UNITS",
    "CalendarDataError",
    "CalendarYearUnknown",
    "Clock",
    "ClockError",
    "Duration",
    "WorkCalendar",
    "get_clock",
    "parse_unit",
    "reset_clock",
]
