"""Issue 12 end to end over REST: the number before the form, business questions answered
honestly, Marc's own questions in the guided session followed, French spacing on the wire."""
import pytest

from bot.diagnostic import load_questionnaire
from bot.knowledge import load_knowledge
from bot.typography import french_spacing
from tests.e2e.helpers import new_sender, payloads, texts

pytestmark = pytest.mark.e2e
K = load_knowledge()
Q = load_questionnaire()
STEP = {step.id: i for i, step in enumerate(K.steps)}


@pytest.mark.parametrize("message", [
    "je préfère appeler directement, c'est quel numéro ?",
    "Comment prendre rendez-vous avec un de vos consultants ?",
])
def test_asking_for_the_number_or_an_appointment_gives_them_and_only_offers_the_form(live_stack, message):
    reply = live_stack.chat(new_sender(), message)
    said = " ".join(texts(reply))
    assert "06 34 22 31 71" in said and "www.salesinprogress.com" in said
    assert K.contact_questions["name"][0] not in said  # the form is offered, not opened
    if "numéro" in message:
        assert "/request_contact" in payloads(reply) and "/book_meeting" in payloads(reply)
    else:  # an appointment: the free slots right away (issue 14), and the callback offered
        titles = [b["title"] for m in reply for b in m.get("buttons", [])]
        assert any(" h " in t.replace("\u202f", " ") for t in titles)
        assert K.line("booking_slot_buttons")[1] in titles


def test_a_price_question_gets_an_honest_answer_and_what_helps(live_stack):
    reply = live_stack.chat(new_sender(), "combien coûte un accompagnement ?")
    said = " ".join(texts(reply))
    assert said.startswith(K.topics["business"].messages[0]) and "€" not in said
    assert {"/start_diagnostic", "/request_contact"} <= set(payloads(reply))


def walk_to(stack, sender, step_id):
    stack.chat(sender, "/start_coaching")
    for _ in range(STEP[step_id]):
        stack.chat(sender, "/continue")


@pytest.mark.parametrize("step, message, next_step", [
    ("pillars", "non pas du tout", "not_sufficient"),         # « c'est le nirvana assuré ? »: agreed with
    ("not_sufficient", "non pas vraiment", "piloting"),       # « vous voyez ce que j'entends par là ? »: explained
])
def test_a_no_to_marcs_question_gets_his_answer_then_the_session_goes_on(live_stack, step, message, next_step):
    sender = new_sender()
    walk_to(live_stack, sender, step)
    said = texts(live_stack.chat(sender, message))
    assert said[0] == K.steps[STEP[step]].on_no[0]
    assert said[1:] == list(K.steps[STEP[next_step]].messages)


def test_yes_at_the_end_of_the_session_starts_the_diagnostic(live_stack):
    sender = new_sender()
    walk_to(live_stack, sender, "sales_in_progress")
    end = texts(live_stack.chat(sender, "/continue"))
    assert end == list(K.session_end_messages)
    said = texts(live_stack.chat(sender, "oui"))
    assert said[0] == K.line("diagnostic_intro")[0]
    assert Q.question("relationship").prompt in said[-1]


def test_every_line_on_the_wire_has_french_spacing(live_stack):
    sender = new_sender()
    said = texts(live_stack.chat(sender, "bonjour")) + texts(live_stack.chat(sender, "c'est quoi les 4 piliers ?"))
    joined = "\n".join(said)
    assert not [p for p in (" ?", " !", " :", " ;", "« ", " »") if p in joined], joined
    assert "\u202f?" in joined or "\u00a0:" in joined


def test_two_questions_in_one_message_get_both_answers_in_order(live_stack):
    said = texts(live_stack.chat(new_sender(), "quels sont les piliers et comment on pilote ensuite ?"))
    pillars, piloting = list(K.topics["pillars"].messages), list(K.topics["piloting"].messages)
    assert said[: len(pillars) + len(piloting)] == pillars + piloting


def test_a_question_and_a_request_get_the_answer_then_the_request(live_stack):
    said = texts(live_stack.chat(new_sender(), "Explique-moi les quatre piliers, et après tu peux évaluer mon projet ?"))
    pillars = list(K.topics["pillars"].messages)
    assert said[: len(pillars)] == pillars
    assert said[len(pillars):len(pillars) + len(K.line("diagnostic_intro"))] == list(K.line("diagnostic_intro"))
    assert said[-1].endswith(Q.questions[0].prompt)  # the first question, the diagnostic started


def test_a_request_first_then_a_question_still_answers_the_question_first(live_stack):
    reply = live_stack.chat(new_sender(), "vous pouvez me rappeler ? et c'est quoi un partenariat au juste ?")
    said = texts(reply)
    definition = list(K.topics["partnership_definition"].messages)
    assert said[: len(definition)] == definition
    assert said[-1] == K.contact_questions["name"][0]  # asked for: the form opens


def test_small_talk_and_a_question_get_both(live_stack):
    said = texts(live_stack.chat(new_sender(), "t'es un robot ? et sinon c'est quoi les piliers"))
    robot, pillars = list(K.line("bot_challenge")), list(K.topics["pillars"].messages)
    assert said[: len(robot) + len(pillars)] == robot + pillars


@pytest.mark.parametrize("message, topic, part", [
    ("ça sert à quoi le contrat ?", "pillars", "contract"),
    ("un bon équilibre dans les relations, c'est quoi ?", "pillars", "balance"),
])
def test_a_question_on_one_pillar_gets_that_pillar(live_stack, message, topic, part):
    said = texts(live_stack.chat(new_sender(), message))
    assert said[0] == next(p for p in K.topics[topic].parts if p.key == part).messages[0]


def test_the_texts_own_title_question_gets_the_four_pillars(live_stack):
    said = texts(live_stack.chat(new_sender(), "Quelles sont les clés pour réussir ses partenariats ?"))
    assert said[0] == K.topics["pillars"].messages[0]


def test_a_complaint_gets_an_apology_and_a_way_forward(live_stack):
    reply = live_stack.chat(new_sender(), "c nul ton truc")
    assert texts(reply) == list(K.line("complaint")) and "/request_contact" in payloads(reply)


def test_coming_back_mid_session_offers_to_resume(live_stack):
    sender = new_sender()
    live_stack.chat(sender, "/start_coaching")
    said = texts(live_stack.chat(sender, "re, je reviens"))
    assert said[0] == K.line("greet_again")[0] and K.steps[1].title.split()[0] in said[-1]


def test_a_greeting_before_a_question_read_as_vague_answers_the_question(live_stack):
    # « Hello » pulls the whole message towards a greeting: the question alone is surer.
    said = " ".join(texts(live_stack.chat(new_sender(), "Hello, c'est quoi votre numéro ?")))
    assert "06 34 22 31 71" in said and "www.salesinprogress.com" in said


@pytest.mark.parametrize("message, first", [
    ("Bonjour Marc, on lance un partenariat avec une autre PME, tu peux m'évaluer ?", "diagnostic"),
    ("Bonjour, je voudrais un rendez-vous avec un consultant", "booking"),
])
def test_a_greeting_with_a_request_does_the_request(live_stack, message, first):
    said = texts(live_stack.chat(new_sender(), message))
    assert said[0] != K.line("greet")[0]
    if first == "diagnostic":
        assert said[0] == K.line("diagnostic_intro")[0] and Q.question("relationship").prompt in said[-1]
    else:
        assert said[0].startswith(french_spacing("Avec plaisir ! Un rendez-vous"))


def test_a_greeting_with_a_remark_stays_a_greeting(live_stack):
    said = texts(live_stack.chat(new_sender(), "bonjour, je découvre votre site"))
    assert said[0] == K.line("greet")[0]


@pytest.mark.parametrize("message, topic", [
    ("Nous sommes une PME de 15 personnes et un distributeur régional veut travailler avec nous dès janvier. "
     "Sur quoi faut-il être vigilant pour que ça fonctionne ?", "pillars"),
    ("On travaille avec un cabinet comptable depuis 5 ans, ils nous envoient des clients et on leur en envoie. "
     "À partir de quand peut-on dire que c'est un partenariat ?", "partnership_definition"),
])
def test_a_question_after_its_context_gets_the_texts_answer(live_stack, message, topic):
    said = texts(live_stack.chat(new_sender(), message))
    assert said[0] == K.topics[topic].messages[0]
