"""One visitor message at a diagnostic question (bot/diagnostic/dialogue.py)."""
import pytest

from bot.diagnostic.dialogue import ANSWER, NOT_AN_ANSWER, REPHRASE, read_turn


@pytest.mark.parametrize("key, text, intent, value", [
    # Marc's word echoed with a question mark, then the answer: an answer.
    ("piloting", "des réunions ? jamais, on s'appelle quand il y a un souci", "ask_piloting", "no"),
    ("balance", "l'équilibre ? oui, on décide à deux", "ask_pillars", "yes"),
    ("contract", "un contrat ? rien d'écrit pour l'instant", "ask_pillars", "no"),
])
def test_an_echoed_word_then_an_answer_is_an_answer(key, text, intent, value):
    assert read_turn(key, text, intent, already_rephrased=False).kind == ANSWER
    assert read_turn(key, text, intent, already_rephrased=False).value == value


@pytest.mark.parametrize("key, text, intent", [
    ("piloting", "piloter ? c'est-à-dire ? vous pouvez préciser ?", "ask_piloting"),
    ("contract", "c'est quoi un accord-cadre ?", "ask_pillars"),
])
def test_a_real_question_still_leaves_the_answer_for_later(key, text, intent):
    assert read_turn(key, text, intent, already_rephrased=False).kind == NOT_AN_ANSWER


@pytest.mark.parametrize("text", ["ok stop pour moi, merci", "bon, on verra la suite une autre fois, j'ai une réunion"])
def test_leaving_for_now_is_not_an_answer(text):
    assert read_turn("common_project", text, "affirm", already_rephrased=False).kind == NOT_AN_ANSWER


def test_blabla_is_asked_again_once_then_unknown():
    assert read_turn("balance", "blabla", "nlu_fallback", already_rephrased=False).kind == REPHRASE
    assert read_turn("balance", "blabla", "nlu_fallback", already_rephrased=True).value == "unknown"


@pytest.mark.parametrize("text, intent", [
    ("merci, c'est instructif", "thanks"),
    ("attendez, je réfléchis", "nlu_fallback"),
    ("on me sonne, deux minutes", "nlu_fallback"),
])
def test_thanks_or_waiting_mid_diagnostic_is_an_aside(text, intent):
    assert read_turn("balance", text, intent, already_rephrased=False).kind == NOT_AN_ANSWER


def test_leaving_for_now_mid_diagnostic_is_a_stop():
    assert read_turn("own_missions", "bon je vous laisse, on reprendra demain", "goodbye",
                     already_rephrased=False).kind == NOT_AN_ANSWER
