"""The release-radar week model: Saturday 00:00 to Friday 24:00 UTC (SPEC §5.3, §8.2)."""

from datetime import date, timedelta

SATURDAY = 5  # datetime.weekday()


def current_week_start(day):
    """The Saturday that starts the week containing ``day``."""
    return day - timedelta(days=(day.weekday() - SATURDAY) % 7)


def last_complete_week(moment):
    """(first day, last day) of the most recent complete Saturday–Friday week before ``moment``."""
    start = current_week_start(moment.date()) - timedelta(days=7)
    return start, start + timedelta(days=6)


def week_key(saturday):
    """``YYYY-WW``: the ISO week-year and week number of the week's Saturday."""
    year, week, _ = saturday.isocalendar()
    return f"{year:04d}-{week:02d}"


def month_precision_week(year, month):
    """The Saturday starting the only week a ``YYYY-MM`` release counts in: the one holding the 1st."""
    return current_week_start(date(year, month, 1))
