"""Actions that answer the visitor: questions on the text, small talk, clarification."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.coaching import topic_for_intent

from actions.common import coach, intents_asked, latest_intent, latest_text, send, session_events, session_state

FALLBACK_INTENT = "nlu_fallback"


class ActionAnswerQuestion(Action):
    def name(self) -> Text:
        return "action_answer_question"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        marc = coach()
        topic = topic_for_intent(latest_intent(tracker))
        several = intents_asked(tracker)
        if len(several) >= 2:  # « quels sont les piliers, et comment on pilote ? »: both, in order
            send(dispatcher, tracker, marc.answer_intents(several, session_state(tracker)))
        elif marc.knows_topic(topic):
            before = session_state(tracker)
            after = marc.past_what_was_answered(topic, before)
            send(dispatcher, tracker, marc.answer(topic, after, latest_text(tracker)))
            return session_events(before, after)
        else:
            send(dispatcher, tracker, marc.clarify([]))
        return []


class ActionSmallTalk(Action):
    def name(self) -> Text:
        return "action_small_talk"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        several = intents_asked(tracker)
        if len(several) >= 2:  # « t'es un robot ? et c'est quoi les piliers ? »: both, in order
            send(dispatcher, tracker, coach().answer_intents(several, session_state(tracker)))
        else:
            send(dispatcher, tracker, coach().small_talk(latest_intent(tracker), session_state(tracker)))
        return []


class ActionClarify(Action):
    """Low confidence: offer the two likeliest topics as buttons instead of guessing."""

    def name(self) -> Text:
        return "action_clarify"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        marc = coach()
        if not latest_text(tracker).strip():
            send(dispatcher, tracker, marc.line("empty", ("coaching", "question")))
            return []
        several = intents_asked(tracker)
        if len(several) >= 2:  # unsure of the whole message, sure of each of its two questions
            send(dispatcher, tracker, marc.answer_intents(several, session_state(tracker)))
            return []
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        candidates = [item.get("name") for item in ranking if item.get("name") != FALLBACK_INTENT]
        send(dispatcher, tracker, marc.clarify(candidates))
        return []
