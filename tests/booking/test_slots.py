"""Slot computation: working hours, days off, notice, buffers, busy time, changes of clock."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.booking.settings import BookingSettingsError, default_settings, parse_settings, working_hours_text
from bot.booking.slots import (
    Interval, Wish, free_slots, is_on_grid, offer, parse_slot_key, slot_key, slot_label,
)

PARIS = ZoneInfo("Europe/Paris")


def settings(**overrides):
    raw = {
        "timezone": "Europe/Paris", "duration_minutes": 30, "buffer_minutes": 15,
        "minimum_notice_hours": 4, "horizon_days": 14, "slot_step_minutes": 30, "slots_shown": 4,
        "working_hours": {"lundi": ["09:00-12:00", "14:00-17:00"], "mardi": ["09:00-12:00"],
                          "mercredi": ["09:00-12:00"], "jeudi": ["09:00-12:00"], "vendredi": ["09:00-12:00"]},
        "days_off": ["2026-12-08"],
        "consultants": [{"id": "a", "name": "A", "email": "a@example.org"}],
    }
    raw.update(overrides)
    return parse_settings(raw)


def paris(*args):
    return dt.datetime(*args, tzinfo=PARIS)


MONDAY_8H = paris(2026, 12, 7, 8, 0)  # a Monday, 8 h in Paris


def starts(slots):
    return [s.start.astimezone(PARIS).strftime("%a %d %H:%M") for s in slots]


def test_notice_and_working_hours():
    slots = free_slots(settings(), {}, MONDAY_8H, limit=3)
    # 4 hours of notice: nothing before 12 h on Monday; the morning ends at 12 h; afternoon at 14 h.
    assert starts(slots) == ["Mon 07 14:00", "Mon 07 14:30", "Mon 07 15:00"]


def test_days_off_and_weekends_have_no_slot():
    slots = free_slots(settings(), {}, MONDAY_8H, limit=200)
    days = {s.start.astimezone(PARIS).date() for s in slots}
    assert dt.date(2026, 12, 8) not in days  # day off
    assert not any(d.weekday() >= 5 for d in days)


def test_last_slot_ends_with_the_range():
    slots = free_slots(settings(), {}, MONDAY_8H, limit=200)
    monday = [s for s in slots if s.start.astimezone(PARIS).date() == dt.date(2026, 12, 7)]
    assert monday[-1].end.astimezone(PARIS).time() == dt.time(17, 0)


def test_busy_time_and_its_buffer_remove_slots():
    busy = {"a": [Interval(paris(2026, 12, 7, 15, 0), paris(2026, 12, 7, 15, 30))]}
    slots = free_slots(settings(), busy, MONDAY_8H, limit=6)
    # 15 h is busy; 14 h 30 ends at 15 h (inside the 15-min buffer), 15 h 30 starts in it.
    assert starts(slots)[:3] == ["Mon 07 14:00", "Mon 07 16:00", "Mon 07 16:30"]


def test_a_second_consultant_takes_what_the_first_cannot():
    two = settings(consultants=[{"id": "a", "name": "A", "email": "a@x.org"}, {"id": "b", "name": "B", "email": "b@x.org"}])
    busy = {"a": [Interval(paris(2026, 12, 7, 14, 0), paris(2026, 12, 7, 17, 0))]}
    slots = free_slots(two, busy, MONDAY_8H, limit=2)
    assert [s.consultant_id for s in slots] == ["b", "b"]


def test_offer_spreads_over_days_and_moments():
    slots = offer(settings(), {}, MONDAY_8H)
    assert len(slots) == 4
    per_day = {}
    for s in slots:
        per_day.setdefault(s.start.date(), []).append(s.start)
    assert all(len(v) <= 2 for v in per_day.values())
    assert all(b - a >= dt.timedelta(hours=2) for v in per_day.values() for a, b in zip(v, v[1:]))


def test_wishes_filter_slots():
    morning = free_slots(settings(), {}, MONDAY_8H, Wish(until_time=dt.time(12, 0)), limit=50)
    assert morning and all(s.end.astimezone(PARIS).time() <= dt.time(12, 0) for s in morning)
    thursday = free_slots(settings(), {}, MONDAY_8H, Wish(weekdays=frozenset({3})), limit=50)
    assert thursday and all(s.start.astimezone(PARIS).weekday() == 3 for s in thursday)
    later = free_slots(settings(), {}, MONDAY_8H, Wish(after=dt.datetime(2026, 12, 9, 10, 0)), limit=1)
    assert starts(later) == ["Wed 09 10:30"]


@pytest.mark.parametrize("before, after, offsets", [
    # Last Sunday of March 2027: Friday in winter time, Monday in summer time.
    (paris(2027, 3, 26, 8, 0), dt.date(2027, 3, 29), (dt.timedelta(hours=1), dt.timedelta(hours=2))),
    # Last Sunday of October 2027: Friday in summer time, Monday in winter time.
    (paris(2027, 10, 29, 4, 0), dt.date(2027, 11, 1), (dt.timedelta(hours=2), dt.timedelta(hours=1))),
])
def test_slots_keep_their_local_hour_across_a_change_of_clock(before, after, offsets):
    rules = settings(minimum_notice_hours=0, days_off=[])
    slots = free_slots(rules, {}, before, limit=100)
    friday = next(s for s in slots if s.start.astimezone(PARIS).date() == before.date())
    monday = next(s for s in slots if s.start.astimezone(PARIS).date() == after)
    assert friday.start.astimezone(PARIS).time() == monday.start.astimezone(PARIS).time() == dt.time(9, 0)
    assert (friday.start.utcoffset(), monday.start.astimezone(PARIS).utcoffset()) == offsets
    assert monday.end - monday.start == dt.timedelta(minutes=30)


@pytest.mark.parametrize("sunday", [dt.date(2027, 3, 28), dt.date(2027, 10, 31)])
def test_the_missing_or_repeated_hour_is_never_offered(sunday):
    rules = settings(minimum_notice_hours=0, days_off=[], working_hours={"dimanche": ["01:00-04:00"]})
    slots = free_slots(rules, {}, paris(sunday.year, sunday.month, sunday.day - 1, 12, 0), limit=20)
    on_sunday = [s.start.astimezone(PARIS).time() for s in slots if s.start.astimezone(PARIS).date() == sunday]
    assert on_sunday and dt.time(2, 0) not in on_sunday and dt.time(2, 30) not in on_sunday


def test_grid_check_refuses_forged_and_past_starts():
    rules = settings()
    assert is_on_grid(rules, paris(2026, 12, 7, 14, 0), MONDAY_8H)
    assert not is_on_grid(rules, paris(2026, 12, 7, 14, 10), MONDAY_8H)   # off the step
    assert not is_on_grid(rules, paris(2026, 12, 7, 9, 0), MONDAY_8H)     # within the notice
    assert not is_on_grid(rules, paris(2026, 12, 7, 20, 0), MONDAY_8H)    # outside working hours
    assert not is_on_grid(rules, paris(2026, 12, 12, 10, 0), MONDAY_8H)   # Saturday
    assert not is_on_grid(rules, paris(2027, 6, 7, 10, 0), MONDAY_8H)     # beyond the horizon


def test_slot_keys_round_trip_and_reject_garbage():
    start = paris(2026, 12, 7, 14, 0)
    assert parse_slot_key(slot_key(start)) == start
    for bad in (None, 3, "", "demain", "2026-13-40T99:99Z", "x" * 100, {"a": 1}):
        assert parse_slot_key(bad) is None


def test_labels_are_french():
    rules = settings()
    assert slot_label(rules, paris(2026, 12, 8, 10, 0)) == "mardi 8 décembre, 10 h 00"
    assert slot_label(rules, paris(2027, 3, 1, 9, 30)) == "lundi 1er mars, 9 h 30"
    assert working_hours_text(default_settings()).startswith("du lundi au vendredi")


@pytest.mark.parametrize("raw, message", [
    ({"working_hours": {"lundi": ["9h-12h"]}}, "n'est pas une plage"),
    ({"working_hours": {"funday": []}}, "jours inconnus"),
    ({"slots_shown": 9}, "slots_shown"),
    ({"consultants": []}, "au moins un consultant"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"days_off": ["demain"]}, "days_off"),
])
def test_wrong_settings_say_what_is_wrong(raw, message):
    with pytest.raises(BookingSettingsError, match=message):
        settings(**raw)


def test_the_shipped_settings_load():
    rules = default_settings()
    assert 3 <= rules.slots_shown <= 5 and rules.consultants
