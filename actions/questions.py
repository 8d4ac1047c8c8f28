"""Actions that answer the visitor: questions on the text, small talk, clarification."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import coach, latest_intent, latest_text, send, session_state
from bot.coaching import topic_for_intent

FALLBACK_INTENT = "nlu_fallback"


class ActionAnswerQuestion(Action):
    def name(self) -> Text:
        return "action_answer_question"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        marc = coach()
        topic = topic_for_intent(latest_intent(tracker))
        if marc.knows_topic(topic):
            send(dispatcher, tracker, marc.answer(topic, session_state(tracker)))
        else:
            send(dispatcher, tracker, marc.clarify([]))
        return []


class ActionSmallTalk(Action):
    def name(self) -> Text:
        return "action_small_talk"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
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
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        candidates = [item.get("name") for item in ranking if item.get("name") != FALLBACK_INTENT]
        send(dispatcher, tracker, marc.clarify(candidates))
        return []
