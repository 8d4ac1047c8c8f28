"""Actions that drive the guided coaching session (bot/coaching.py decides what to say)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, Restarted
from rasa_sdk.executor import CollectingDispatcher

from actions.common import coach, send, session_events, session_state
from actions.contact import contact_slots, forget_personal_data
from actions.diagnostic import ActionStartDiagnostic
from bot.coaching import SessionState
from bot.contact import has_personal_data, slot_for
from bot.replies import Reply


class SessionMove(Action, ABC):
    """An action that moves the session: state from the slots, one Coach call, slots back."""

    @abstractmethod
    def move(self, state: SessionState) -> tuple[Reply, SessionState]:
        """Marc's reply and the session's new state."""

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        before = session_state(tracker)
        reply, after = self.move(before)
        send(dispatcher, tracker, reply)
        return session_events(before, after)


class ActionStartCoaching(SessionMove):
    def name(self) -> Text:
        return "action_start_coaching"

    def move(self, state: SessionState) -> tuple[Reply, SessionState]:
        return coach().start(state)


class ActionContinue(SessionMove):
    def name(self) -> Text:
        return "action_continue"

    def move(self, state: SessionState) -> tuple[Reply, SessionState]:
        return coach().continue_session(state)


class ActionAffirm(SessionMove):
    def name(self) -> Text:
        return "action_affirm"

    def move(self, state: SessionState) -> tuple[Reply, SessionState]:
        return coach().affirm(state)

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        if coach().wants_diagnostic(session_state(tracker)):
            # « Envie de voir où en est votre projet ? » « Oui » : the diagnostic, right away.
            events = ActionStartDiagnostic().run(dispatcher, tracker, domain)
            return [*events, FollowupAction("diagnostic_form")]
        return super().run(dispatcher, tracker, domain)


class ActionStop(SessionMove):
    def name(self) -> Text:
        return "action_stop"

    def move(self, state: SessionState) -> tuple[Reply, SessionState]:
        return coach().stop(state)


class ActionGoodbye(SessionMove):
    def name(self) -> Text:
        return "action_goodbye"

    def move(self, state: SessionState) -> tuple[Reply, SessionState]:
        # Leaving pauses a running session, so "on reprend" still works if the visitor comes back.
        _, paused = coach().stop(state)
        return coach().line("goodbye"), paused


class ActionGreet(SessionMove):
    def name(self) -> Text:
        return "action_greet"

    def move(self, state: SessionState) -> tuple[Reply, SessionState]:
        return coach().greet(state), state


class ActionDeny(SessionMove):
    def name(self) -> Text:
        return "action_deny"

    def move(self, state: SessionState) -> tuple[Reply, SessionState]:
        return coach().deny(state)


class ActionRestart(Action):
    """Overrides Rasa's `action_restart`: the same full reset, then Marc's menu."""

    def name(self) -> Text:
        return "action_restart"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        slots = contact_slots(tracker)
        forget = []
        if has_personal_data(slots) and slots.get(slot_for("consent")) != "yes":
            forget = forget_personal_data(tracker, dispatcher)  # « tout est oublié »: the unconsented details too
        marc = coach()
        send(dispatcher, tracker, marc.line("restart").then(marc.greet(SessionState())))
        return [*forget, Restarted()]
