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


@pytest.mark.parametrize("text", ["", "0", "aucune", "3", "trois ans", "-1y", "0d", "101y", "1201m", "36526d", "99999999999d"])
def test_a_bad_retention_is_refused_in_french(text):
    # "0" or "aucune" could mean "keep nothing" as well as "no purge": refused, not guessed.
    with pytest.raises(InvalidDuration, match="durée"):
        parse_retention(text)


def test_the_longest_retention_still_gives_a_date():
    assert parse_retention("100y") == (100, "y") and parse_retention("1200m") == (1200, "m")
    assert RetentionSchedule(lambda cutoff: None, (100, "y"), clock=Clock()).run_if_due()[0].year == 1926


def test_the_purge_runs_once_a_day_with_a_three_year_cutoff():
    cutoffs, clock = [], Clock()
    schedule = RetentionSchedule(lambda cutoff: cutoffs.append(cutoff) or "report", (3, "y"), clock=clock)
    assert schedule.run_if_due() == (NOW.replace(year=2023), "report")
    clock.now += dt.timedelta(hours=23, minutes=59)
    assert schedule.run_if_due() is None
    clock.now += dt.timedelta(minutes=1)
    assert schedule.run_if_due()[0] == clock.now.replace(year=2023)
    assert len(cutoffs) == 2


def test_a_failed_purge_is_tried_again_an_hour_later_then_daily():
    calls, clock = [], Clock()

    def purge(cutoff):
        calls.append(cutoff)
        if len(calls) == 1:
            raise ConnectionError("base des leads inaccessible")
        return "report"

    schedule = RetentionSchedule(purge, (3, "y"), clock=clock)
    with pytest.raises(ConnectionError):
        schedule.run_if_due()
    clock.now += dt.timedelta(minutes=59)
    assert schedule.run_if_due() is None and len(calls) == 1  # not on every pass
    clock.now += dt.timedelta(minutes=1)
    assert schedule.run_if_due() is not None and len(calls) == 2
    clock.now += dt.timedelta(hours=2)
    assert schedule.run_if_due() is None  # done: next one a day later


def test_retention_off_never_purges():
    schedule = RetentionSchedule(lambda cutoff: pytest.fail("purged"), None)
    assert schedule.run_if_due() is None
