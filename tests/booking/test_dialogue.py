"""Reading a visitor's reply to the slots and to « téléphone ou visio ? » (own phrasings; the
blind set is scored apart by scripts/score_blind_booking.py)."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.booking.dialogue import read_mode, read_slot_reply
from bot.booking.settings import default_settings
from bot.booking.slots import Wish, slot_label
from bot.booking.wishes import read_wish

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=PARIS)  # Thursday
SHOWN = [dt.datetime(2026, 12, 7, 9, 0, tzinfo=PARIS), dt.datetime(2026, 12, 7, 14, 0, tzinfo=PARIS),
         dt.datetime(2026, 12, 9, 11, 0, tzinfo=PARIS), dt.datetime(2026, 12, 10, 16, 30, tzinfo=PARIS)]
LABELS = [slot_label(default_settings(), s) for s in SHOWN]


def reply(text):
    return read_slot_reply(text, SHOWN, LABELS, NOW, PARIS)


@pytest.mark.parametrize("text, index", [
    (LABELS[2], 2), ("lundi 7 décembre, 14 h 00", 1),
    ("Le premier.", 0), ("je prends le 2e", 1), ("la troisième option", 2), ("le dernier svp", 3),
    ("l'avant-dernier", 2), ("mercredi ça me va", 2), ("lundi 14h parfait", 1), ("va pour le 10", 3),
    ("jeudi 16h30", 3),
])
def test_a_slot_named_in_words_is_chosen(text, index):
    result = reply(text)
    assert result.kind == "chosen" and result.chosen == SHOWN[index]


def test_a_day_with_two_slots_shown_is_not_a_choice():
    assert reply("lundi").kind != "chosen"  # two slots on Monday: which one is not said


@pytest.mark.parametrize("text", ["plus tard", "d'autres dates ?", "pas ce jour-là", "plutôt l'après-midi",
                                  "rien avant 15h", "la semaine prochaine", "pas le lundi", "jeudi plutôt",
                                  "le 15", "demain matin", "aucun ne me convient"])
def test_other_slots_are_asked_for(text):
    assert reply(text).kind in ("wish", "none_fit")


@pytest.mark.parametrize("text, why", [("le 31 février", "n’existe pas"), ("hier à 10h", "passé"),
                                       ("le 45", "pas de 45"), ("à 27h", "n’existe pas")])
def test_impossible_moments_are_said_never_guessed(text, why):
    result = reply(text)
    assert result.kind == "problem" and why in result.problem


def test_a_call_back_instead():
    assert reply("finalement rappelez-moi plutôt").kind == "callback"
    assert reply("Plutôt être rappelé").kind == "callback"


def test_a_question_is_not_an_answer():
    assert reply("c'est quoi les quatre piliers ?").kind == "not_an_answer"
    assert reply("").kind == "not_an_answer"


@pytest.mark.parametrize("text, mode", [
    ("En visio", "video"), ("par zoom si possible", "video"), ("Teams", "video"),
    ("Par téléphone", "phone"), ("au tel", "phone"), ("appelez-moi sur mon portable", "phone"),
    ("pas en visio, par téléphone", "phone"), ("peu importe", "phone"), ("bonjour", None),
])
def test_phone_or_video(text, mode):
    assert read_mode(text) == mode


def test_wishes_refine_and_survive_a_slot_round_trip():
    first = read_wish("plutôt le matin", NOW, SHOWN, PARIS).wish
    second = read_wish("pas le mercredi", NOW, SHOWN, PARIS).wish
    merged = first.merged(second)
    assert merged.until_time == dt.time(12, 30) and merged.not_weekdays == frozenset({2})
    assert Wish.from_dict(merged.to_dict()) == merged
    assert Wish.from_dict({"from_day": "pas une date"}) == Wish()  # a forged slot value


def test_dates_said_in_december_for_january_are_next_year():
    wish = read_wish("le 8 janvier", NOW, (), PARIS).wish
    assert wish.from_day == dt.date(2027, 1, 8)
