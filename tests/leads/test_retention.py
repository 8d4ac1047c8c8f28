"""The retention schedule the outbox worker runs (bot/leads/retention.py)."""
import datetime as dt

import pytest

from bot.leads.retention import InvalidDuration, RetentionSchedule, parse_retention

NOW = dt.datetime(2026, 11, 27, 22, 0, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.mark.parametrize("text, expected", [
    ("3y", (3, "y")), (" 36m ", (36, "m")), ("1095j", (1095, "d")), ("off", None), ("NON", None),
])
def test_parse_retention(text, expected):
    assert parse_retention(text) == expected


@pytest.mark.parametrize("text", ["", "3", "trois ans", "-1y", "0d"])
def test_a_bad_retention_is_refused_in_french(text):
    with pytest.raises(InvalidDuration, match="durée"):
        parse_retention(text)


def test_the_purge_runs_once_a_day_with_a_three_year_cutoff():
    cutoffs, clock = [], Clock()
    schedule = RetentionSchedule(lambda cutoff: cutoffs.append(cutoff) or "report", (3, "y"), clock=clock)
    assert schedule.run_if_due() == (NOW.replace(year=2023), "report")
    clock.now += dt.timedelta(hours=23, minutes=59)
    assert schedule.run_if_due() is None
    clock.now += dt.timedelta(minutes=1)
    assert schedule.run_if_due()[0] == clock.now.replace(year=2023)
    assert len(cutoffs) == 2


def test_a_failed_purge_is_tried_again_on_the_next_pass():
    calls, clock = [], Clock()

    def purge(cutoff):
        calls.append(cutoff)
        if len(calls) == 1:
            raise ConnectionError("base des leads inaccessible")
        return "report"

    schedule = RetentionSchedule(purge, (3, "y"), clock=clock)
    with pytest.raises(ConnectionError):
        schedule.run_if_due()
    clock.now += dt.timedelta(seconds=30)
    assert schedule.run_if_due() is not None and len(calls) == 2


def test_retention_off_never_purges():
    schedule = RetentionSchedule(lambda cutoff: pytest.fail("purged"), None)
    assert schedule.run_if_due() is None
