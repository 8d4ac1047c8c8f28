"""Actions that drive the guided coaching session (bot/coaching.py decides what to say)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import Restarted
from rasa_sdk.executor import CollectingDispatcher

from actions.common import coach, send, session_events, session_state
from bot.coaching import SessionState


class ActionGreet(Action):
    def name(self) -> Text:
        return "action_greet"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        send(dispatcher, tracker, coach().greet(session_state(tracker)))
        return []


class ActionStartCoaching(Action):
    def name(self) -> Text:
        return "action_start_coaching"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        before = session_state(tracker)
        reply, after = coach().start(before)
        send(dispatcher, tracker, reply)
        return session_events(before, after)


class ActionContinue(Action):
    def name(self) -> Text:
        return "action_continue"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        before = session_state(tracker)
        reply, after = coach().continue_session(before)
        send(dispatcher, tracker, reply)
        return session_events(before, after)


class ActionAffirm(Action):
    def name(self) -> Text:
        return "action_affirm"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        before = session_state(tracker)
        reply, after = coach().affirm(before)
        send(dispatcher, tracker, reply)
        return session_events(before, after)


class ActionDeny(Action):
    def name(self) -> Text:
        return "action_deny"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        send(dispatcher, tracker, coach().deny(session_state(tracker)))
        return []


class ActionStop(Action):
    def name(self) -> Text:
        return "action_stop"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        before = session_state(tracker)
        reply, after = coach().stop(before)
        send(dispatcher, tracker, reply)
        return session_events(before, after)


class ActionGoodbye(Action):
    def name(self) -> Text:
        return "action_goodbye"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        before = session_state(tracker)
        # Leaving pauses a running session, so "on reprend" still works if the visitor comes back.
        _, after = coach().stop(before)
        send(dispatcher, tracker, coach().line("goodbye"))
        return session_events(before, after)


class ActionRestart(Action):
    """Overrides Rasa's `action_restart`: the same full reset, then Marc's menu."""

    def name(self) -> Text:
        return "action_restart"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        marc = coach()
        send(dispatcher, tracker, marc.line("restart").then(marc.greet(SessionState())))
        return [Restarted()]
