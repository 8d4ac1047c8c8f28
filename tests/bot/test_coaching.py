"""The guided session and direct answers, played without Rasa."""
import pytest

from bot.coaching import FINISHED, IDLE, IN_PROGRESS, PAUSED, SMALL_TALK, Coach, SessionState, topic_for_intent
from bot.knowledge import load_knowledge
from bot.typography import french_spacing

K = load_knowledge()


@pytest.fixture
def coach():
    return Coach(K)


def payloads(reply):
    return [b.payload for b in reply.buttons]


def test_greeting_says_it_is_a_virtual_coach_and_offers_the_three_choices(coach):
    reply = coach.greet(SessionState())
    assert "virtuel" in reply.text and "pas une personne" in reply.text
    assert payloads(reply) == ["/start_coaching", "/start_diagnostic", "/want_to_ask"]


def test_diagnostic_is_offered_only_when_available():
    reply = Coach(K, diagnostic_available=False).greet(SessionState())
    assert "/start_diagnostic" not in payloads(reply)


def test_full_session_walks_every_step_in_order_then_ends(coach):
    state = SessionState()
    reply, state = coach.start(state)
    seen = [reply.messages]
    while state.status == IN_PROGRESS:
        assert payloads(reply) == ["/continue", "/want_to_ask", "/stop_session"]
        reply, state = coach.continue_session(state)
        seen.append(reply.messages)
    assert state.status == FINISHED
    assert seen[:-1] == [s.messages for s in K.steps]
    assert "/start_diagnostic" in payloads(reply)


def test_question_mid_session_offers_to_resume_at_the_next_step(coach):
    _, state = coach.start(SessionState())
    _, state = coach.continue_session(state)           # step 2 shown
    answer = coach.answer("pillars", state)
    assert answer.messages[: len(K.topics["pillars"].messages)] == K.topics["pillars"].messages
    assert french_spacing(f"« {K.steps[2].title} »") in answer.text
    assert payloads(answer)[0] == "/continue"
    reply, after = coach.continue_session(state)       # the state did not move
    assert reply.messages == K.steps[2].messages and after.last_step == 2


def test_question_outside_a_session_offers_related_topics_and_the_menu(coach):
    answer = coach.answer("pillars", SessionState())
    assert payloads(answer)[:2] == ["/ask_pillars_not_enough", "/ask_piloting"]
    assert "/start_coaching" in payloads(answer)


def test_stop_pauses_and_continue_resumes_exactly_there(coach):
    _, state = coach.start(SessionState())
    _, state = coach.continue_session(state)
    reply, paused = coach.stop(state)
    assert paused == SessionState(1, PAUSED)
    assert "/continue" in payloads(reply)
    reply, resumed = coach.continue_session(paused)
    assert reply.messages == K.steps[2].messages and resumed.status == IN_PROGRESS


def test_greeting_again_during_a_session_offers_to_resume(coach):
    reply = coach.greet(SessionState(3, PAUSED))
    assert french_spacing(f"« {K.steps[4].title} »") in reply.text
    assert payloads(reply)[0] == "/continue"


def test_continue_without_a_session_starts_it(coach):
    reply, state = coach.continue_session(SessionState())
    assert reply.messages[-len(K.steps[0].messages):] == K.steps[0].messages
    assert state == SessionState(0, IN_PROGRESS)


def test_continue_after_the_end_offers_what_next(coach):
    state = SessionState(len(K.steps) - 1, FINISHED)
    reply, after = coach.continue_session(state)
    assert after == state and "/start_coaching" in payloads(reply)


def test_start_during_a_session_does_not_lose_the_place(coach):
    reply, state = coach.start(SessionState(4, PAUSED))
    assert reply.messages == K.steps[5].messages and state.last_step == 5


def test_affirm_continues_and_deny_offers_a_way_out(coach):
    reply, state = coach.affirm(SessionState(0, IN_PROGRESS))
    assert reply.messages == K.steps[1].messages
    assert "/stop_session" in payloads(coach.deny(state)[0])
    assert "/start_coaching" in payloads(coach.deny(SessionState())[0])


def test_clarify_offers_the_two_likeliest_topics(coach):
    reply = coach.clarify(["ask_pillars", "greet", "ask_piloting", "ask_vocabulary"])
    assert payloads(reply) == ["/ask_pillars", "/ask_piloting", "/want_to_ask"]
    generic = coach.clarify(["greet", "out_of_scope"])
    assert "/start_coaching" in payloads(generic)


@pytest.mark.parametrize("intent", sorted(SMALL_TALK))
def test_small_talk_has_a_line_for_each_intent(coach, intent):
    idle = coach.small_talk(intent, SessionState())
    assert idle.messages
    during = coach.small_talk(intent, SessionState(2, IN_PROGRESS))
    if intent != "want_to_ask":
        assert payloads(during)[0] == "/continue"


def test_every_question_intent_maps_to_a_topic():
    domain_intents = [f"ask_{key}" for key in K.topics]
    assert all(topic_for_intent(i) in K.topics for i in domain_intents)
    assert topic_for_intent("greet") is None


def test_session_state_from_slots_is_forgiving():
    assert SessionState.from_slots(None, None) == SessionState(-1, IDLE)
    assert SessionState.from_slots(3.0, "bogus") == SessionState(3, IDLE)


def _index(step_id):
    return next(i for i, step in enumerate(K.steps) if step.id == step_id)


def test_a_no_to_do_you_see_what_i_mean_explains_and_goes_on(coach):
    at = SessionState(_index("not_sufficient"), IN_PROGRESS)
    reply, state = coach.deny(at)
    assert reply.messages[0] == K.steps[_index("not_sufficient")].on_no[0]
    assert reply.messages[1:] == K.steps[_index("piloting")].messages and state.last_step == _index("piloting")


def test_the_nirvana_question_has_an_answer_either_way(coach):
    at = SessionState(_index("pillars"), IN_PROGRESS)
    yes, _ = coach.affirm(at)
    no, _ = coach.deny(at)
    assert yes.messages[0] == french_spacing("Pas si vite !") and no.messages[0] == french_spacing("Vous avez raison !")
    assert yes.messages[1:] == no.messages[1:] == K.steps[_index("not_sufficient")].messages


def test_a_no_to_lets_go_still_means_not_now(coach):
    reply, state = coach.deny(SessionState(_index("hook"), IN_PROGRESS))
    assert reply.messages == K.line("deny_in_session") and state.last_step == _index("hook")


def test_a_rhetorical_question_moves_on_whatever_the_answer(coach):
    reply, state = coach.deny(SessionState(_index("forms"), IN_PROGRESS))
    assert reply.messages == K.steps[_index("reasons")].messages


def test_after_the_session_yes_is_the_diagnostic_and_no_a_friendly_way_out(coach):
    done = SessionState(len(K.steps) - 1, FINISHED)
    assert coach.wants_diagnostic(done) and not coach.wants_diagnostic(SessionState(2, IN_PROGRESS))
    reply, _ = coach.deny(done)
    assert reply.messages == K.line("session_end_no") and "/request_contact" in payloads(reply)
    without = Coach(diagnostic_available=False)
    reply, _ = without.affirm(done)
    assert "06 34 22 31 71" in reply.messages[0] and "/request_contact" in payloads(reply)


def test_the_number_and_the_site_come_first_and_the_callback_is_only_offered(coach):
    reply = coach.answer("contact_info", SessionState())
    assert "06 34 22 31 71" in reply.messages[0] and "www.salesinprogress.com" in reply.messages[0]
    # Then the two ways forward, offered, never started: book a slot, or be called back.
    assert payloads(reply)[:2] == ["/book_meeting", "/request_contact"]


def test_a_business_question_invents_no_price(coach):
    text = " ".join(coach.answer("business", SessionState()).messages)
    assert "€" not in text and "gratuit" not in text and "06 34 22 31 71" in text


def test_two_questions_are_answered_in_turn_with_one_closing_prompt(coach):
    reply = coach.answer_several(["pillars", "piloting"], SessionState())
    pillars, piloting = K.topics["pillars"].messages, K.topics["piloting"].messages
    assert reply.messages[: len(pillars) + len(piloting)] == pillars + piloting
    assert sum(reply.messages.count(p) for p in K.after_answer_prompts) == 1


def test_small_talk_and_a_question_are_answered_in_order(coach):
    reply = coach.answer_intents(["bot_challenge", "ask_pillars"], SessionState())
    robot, pillars = K.line("bot_challenge"), K.topics["pillars"].messages
    assert reply.messages[: len(robot) + len(pillars)] == robot + pillars
    assert reply.buttons == coach.answer("pillars", SessionState()).buttons  # those of the last answer


def test_the_answers_said_before_a_request_have_no_closing_line_nor_buttons(coach):
    reply = coach.answers_before_request(["ask_pillars", "book_meeting"])
    assert reply.messages == K.topics["pillars"].messages and reply.buttons == ()
    assert coach.answers_before_request(["request_contact"]) is None  # nothing to answer first


@pytest.mark.parametrize("text, topic, part", [
    ("ça sert à quoi le contrat ?", "pillars", "contract"),
    ("un bon équilibre dans la relation, ça veut dire quoi ?", "pillars", "balance"),
    ("et si on n'a pas la même envie ?", "pillars", "desire"),
    ("pourquoi comparer un partenariat à un mariage ?", "prospecting", "marriage"),
    ("le Tinder des entreprises, ça a marché ?", "partnership_risks", "tinder"),
    ("c'est quoi un fournisseur pour vous ?", "vocabulary", "supplier"),
])
def test_a_question_on_one_part_gets_that_part(coach, text, topic, part):
    reply = coach.answer(topic, SessionState(), text)
    expected = next(p for p in K.topics[topic].parts if p.key == part).messages
    assert reply.messages[: len(expected)] == expected


@pytest.mark.parametrize("text", ["c'est quoi les quatre piliers ?", "l'envie et le contrat, ça compte autant ?"])
def test_the_whole_topic_when_no_single_part_is_named(coach, text):
    assert coach.answer("pillars", SessionState(), text).messages[0] == K.topics["pillars"].messages[0]


def test_a_question_on_the_next_step_skips_it_instead_of_showing_it_again(coach):
    pillars = next(i for i, step in enumerate(K.steps) if step.id == "pillars")
    before = SessionState(pillars - 1, IN_PROGRESS)
    after = coach.past_what_was_answered("pillars", before)
    assert after.last_step == pillars
    assert french_spacing(f"« {K.steps[pillars + 1].title} »") in coach.answer("pillars", after).text
    assert coach.past_what_was_answered("vocabulary", before) == before  # another idea: nothing skipped
    assert coach.past_what_was_answered("pillars", SessionState()) == SessionState()


def test_the_closing_line_varies_from_one_topic_to_the_next(coach):
    closings = {coach.answer(key, SessionState()).messages[-1] for key in ("pillars", "piloting", "vocabulary", "worth_it")}
    assert len(closings) > 1 and closings <= set(K.after_answer_prompts)
