"""Whole conversations with the real bot over Rasa's REST channel (trained model + actions)."""
import pytest

from bot.knowledge import load_knowledge
from bot.typography import french_spacing
from tests.e2e.helpers import new_sender, payloads, texts

pytestmark = pytest.mark.e2e
K = load_knowledge()


def test_greeting_presents_a_virtual_coach_and_three_choices(live_stack):
    reply = live_stack.chat(new_sender(), "Bonjour !")
    said = " ".join(texts(reply))
    assert "coach" in said and "virtuel" in said and "pas une personne" in said
    assert payloads(reply) == ["/start_coaching", "/start_diagnostic", "/want_to_ask"]


def test_the_guided_session_end_to_end_follows_the_text(live_stack):
    sender = new_sender()
    live_stack.chat(sender, "salut")
    shown = [texts(live_stack.chat(sender, "/start_coaching"))]
    for _ in range(len(K.steps)):
        shown.append(texts(live_stack.chat(sender, "/continue")))
    assert shown[:-1] == [list(step.messages) for step in K.steps]
    assert shown[-1] == list(K.session_end_messages)


def test_interrupt_with_a_typed_question_then_resume_exactly_there(live_stack):
    sender = new_sender()
    live_stack.chat(sender, "/start_coaching")
    live_stack.chat(sender, "/continue")                       # step 2 shown
    answer = live_stack.chat(sender, "au fait, c'est quoi les quatre piliers d'un partenariat ?")
    said = texts(answer)
    assert said[0] == K.topics["pillars"].messages[0]
    assert french_spacing(f"« {K.steps[2].title} »") in said[-1]
    assert payloads(answer)[0] == "/continue"
    resumed = live_stack.chat(sender, "on reprend")
    assert texts(resumed) == list(K.steps[2].messages)


@pytest.mark.parametrize("question, topic", [
    ("Salut, c'est quoi la différence entre un client et un partenaire ?", "vocabulary"),
    ("c koi un partenariat en fait", "partnership_definition"),
    ("Quels sont les cinq points obligatoires d'un partenariat ?", "partnership_definition"),
    ("ca peut prendre quelle forme concretement un partenariat ?", "partnership_forms"),
    ("Pourquoi est-ce que je nouerais un partenariat ?", "partnership_reasons"),
    ("on risque pas de se faire manger en partageant ?", "partnership_risks"),
    ("C'est quoi les 4 piliers ?", "pillars"),
    ("Les piliers, ça suffit pas ?", "pillars_not_enough"),
    ("Comment je choisis mon partenaire ?", "partner_choice"),
    ("Ça veut dire quoi piloter un partenariat ?", "piloting"),
    ("Est-ce que ça vaut vraiment le coup ?", "worth_it"),
    ("Quel est le numéro de Sales In Progress ?", "contact_info"),
    ("Que fait Sales In Progress exactement ?", "sales_in_progress"),
])
def test_a_direct_question_as_first_message_gets_the_right_answer(live_stack, question, topic):
    reply = texts(live_stack.chat(new_sender(), question))
    assert reply[: len(K.topics[topic].messages)] == list(K.topics[topic].messages)


def test_contact_details_come_from_the_text(live_stack):
    said = " ".join(texts(live_stack.chat(new_sender(), "comment je peux vous joindre ?")))
    assert "06 34 22 31 71" in said and "www.salesinprogress.com" in said


def test_out_of_scope_gets_a_friendly_redirect(live_stack):
    reply = live_stack.chat(new_sender(), "tu connais une bonne recette de crêpes ?")
    assert texts(reply) == list(K.lines["out_of_scope"])
    assert "/start_coaching" in payloads(reply)


def test_stop_then_resume_later(live_stack):
    sender = new_sender()
    live_stack.chat(sender, "/start_coaching")
    live_stack.chat(sender, "/continue")
    stopped = live_stack.chat(sender, "stop")
    assert texts(stopped) == list(K.lines["stop"])
    again = live_stack.chat(sender, "bonjour")
    assert french_spacing(f"« {K.steps[2].title} »") in " ".join(texts(again))
    assert texts(live_stack.chat(sender, "/continue")) == list(K.steps[2].messages)


def test_restart_forgets_the_session(live_stack):
    sender = new_sender()
    live_stack.chat(sender, "/start_coaching")
    live_stack.chat(sender, "/continue")
    restarted = live_stack.chat(sender, "recommencer")
    assert texts(restarted)[0] == K.lines["restart"][0]
    assert texts(live_stack.chat(sender, "/start_coaching")) == list(K.steps[0].messages)


def test_a_conversation_survives_a_new_request_on_the_same_sender(live_stack):
    sender = new_sender()
    live_stack.chat(sender, "/start_coaching")
    for _ in range(3):
        live_stack.chat(sender, "/continue")
    assert texts(live_stack.chat(sender, "/continue")) == list(K.steps[4].messages)


def test_a_huge_message_gets_a_french_notice_not_an_error(live_stack):
    reply = live_stack.chat(new_sender(), "partenariat " * 2000)
    assert texts(reply)[0] == K.lines["too_long"][0]
