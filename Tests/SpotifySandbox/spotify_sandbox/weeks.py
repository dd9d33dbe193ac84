"""The release-radar week model: Saturday 00:00 to Friday 24:00 UTC."""

from datetime import timedelta

SATURDAY = 5  # datetime.weekday()


def current_week_start(day):
    """The Saturday that starts the week containing ``day``."""
    return day - timedelta(days=(day.weekday() - SATURDAY) % 7)


def last_complete_week(moment):
    """(first day, last day) of the most recent complete Saturday–Friday week before ``moment``."""
    start = current_week_start(moment.date()) - timedelta(days=7)
    return start, start + timedelta(days=6)
