"""The guided coaching session and the direct answers, as plain Python.

The conversation state the session needs is small and explicit (`SessionState`): which step the
visitor last saw and whether the session runs, is paused or is over. Each method takes the state
and returns Marc's `Reply` plus the new state, so the Rasa actions only carry state in and out
of slots, and tests can play a whole session without Rasa.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterable, Optional, Sequence

from bot.knowledge import Knowledge, Part, Topic, load_knowledge
from bot.nlp import fold
from bot.replies import Button, Reply

IDLE = "idle"              # no guided session started
IN_PROGRESS = "in_progress"
PAUSED = "paused"          # the visitor said stop; "on reprend" resumes
FINISHED = "finished"
STATUSES = (IDLE, IN_PROGRESS, PAUSED, FINISHED)

TOPIC_INTENT_PREFIX = "ask_"


@dataclass(frozen=True)
class SessionState:
    last_step: int = -1      # index of the last step shown; -1 before the first one
    status: str = IDLE

    @classmethod
    def from_slots(cls, last_step: Optional[float], status: Optional[str]) -> "SessionState":
        step = int(last_step) if last_step is not None else -1
        return cls(last_step=step, status=status if status in STATUSES else IDLE)

    @property
    def resumable(self) -> bool:
        return self.status in (IN_PROGRESS, PAUSED)


def topic_for_intent(intent: Optional[str]) -> Optional[str]:
    """`ask_pillars` → `pillars`; anything else → None."""
    if intent and intent.startswith(TOPIC_INTENT_PREFIX):
        return intent[len(TOPIC_INTENT_PREFIX):]
    return None


# Replies that do not move the session: intent → (line in content.yml, buttons under it).
SMALL_TALK = {
    "want_to_ask": ("want_to_ask", ()),
    "thanks": ("thanks", ("coaching", "diagnostic", "question")),
    "bot_challenge": ("bot_challenge", ("coaching", "question")),
    "ask_marc_deal": ("marc_deal", ("coaching", "question")),
    "why_asked": ("why_asked_idle", ("diagnostic", "question")),
    "out_of_scope": ("out_of_scope", ("coaching", "diagnostic", "question")),
    "complaint": ("complaint", ("question", "contact")),
}



def part_asked(topic: Topic, text: str) -> Optional[Part]:
    """The one part of `topic` the text names (by the beginning of a word), if exactly one."""
    folded = fold(text or "")
    named = [part for part in topic.parts
             if any(re.search(rf"(?<!\w){re.escape(cue)}", folded) for cue in part.cues)]
    return named[0] if len(named) == 1 else None


class Coach:
    """Marc's coaching session over the knowledge file."""

    def __init__(self, knowledge: Optional[Knowledge] = None, diagnostic_available: bool = True):
        self.k = knowledge or load_knowledge()
        self.diagnostic_available = diagnostic_available

    # -- building blocks -------------------------------------------------------------------
    def _buttons(self, keys: Iterable[str]) -> tuple[Button, ...]:
        return tuple(
            self.k.button(key) for key in keys
            if key != "diagnostic" or self.diagnostic_available
        )

    def _topic_button(self, topic: Topic) -> Button:
        return Button(topic.title, f"/{TOPIC_INTENT_PREFIX}{topic.key}")

    def line(self, key: str, buttons: Sequence[str] = ()) -> Reply:
        return Reply(self.k.line(key), self._buttons(buttons))

    def menu(self) -> tuple[Button, ...]:
        return self._buttons(self.k.menu)

    def next_step_title(self, state: SessionState) -> Optional[str]:
        index = state.last_step + 1
        return self.k.steps[index].title if index < len(self.k.steps) else None

    # -- greeting ----------------------------------------------------------------------------
    def greet(self, state: SessionState) -> Reply:
        if state.resumable:
            prompt = self.k.resume_prompt.format(next_title=self.next_step_title(state) or "")
            return Reply(self.k.line("greet_again") + (prompt,), self._buttons(("resume", "question", "restart")))
        return Reply(self.k.line("greet"), self.menu())

    # -- the guided session ------------------------------------------------------------------
    def _show_step(self, index: int) -> tuple[Reply, SessionState]:
        step = self.k.steps[index]
        return Reply(step.messages, self._buttons(self.k.step_buttons)), SessionState(index, IN_PROGRESS)

    def start(self, state: SessionState) -> tuple[Reply, SessionState]:
        """Start the session, or pick it up where it stopped if one is under way."""
        if state.resumable:
            return self.continue_session(state)
        return self._show_step(0)

    def restart_session(self) -> tuple[Reply, SessionState]:
        return self._show_step(0)

    def continue_session(self, state: SessionState) -> tuple[Reply, SessionState]:
        if state.status == IDLE:
            reply, new_state = self._show_step(0)
            return self.line("nothing_to_resume").then(reply), new_state
        if state.status == FINISHED:
            return self.line("session_already_done", ("coaching", "diagnostic", "question")), state
        index = state.last_step + 1
        if index >= len(self.k.steps):
            return self.finish()
        return self._show_step(index)

    def finish(self) -> tuple[Reply, SessionState]:
        reply = Reply(self.k.session_end_messages, self._buttons(self.k.session_end_buttons))
        return reply, SessionState(len(self.k.steps) - 1, FINISHED)

    def stop(self, state: SessionState) -> tuple[Reply, SessionState]:
        if state.status == IN_PROGRESS:
            return self.line("stop", ("resume", "question")), replace(state, status=PAUSED)
        return self.line("stop_idle", ("question",)), state

    # -- yes / no outside forms -------------------------------------------------------------
    def affirm(self, state: SessionState) -> tuple[Reply, SessionState]:
        """A plain "oui" to Marc's closing question: his word on it, then the next step; before
        the session, start it. After the end ("envie de voir où en est votre projet ?"), the
        caller starts the diagnostic (`wants_diagnostic`); without one, what's next."""
        if state.status == FINISHED:  # no diagnostic here: the next best thing is a consultant
            return self.answer("contact_info", state), state
        if state.status == IN_PROGRESS:
            return self._answer_to_step(state, self._current_step(state).on_yes or ())
        return self.start(state)

    def wants_diagnostic(self, state: SessionState) -> bool:
        """A "oui" to the session's last question is a yes to evaluating one's own project."""
        return state.status == FINISHED and self.diagnostic_available

    def deny(self, state: SessionState) -> tuple[Reply, SessionState]:
        """A plain "non": to "vous voyez ce que j'entends par là ?", Marc explains and goes on;
        to "on y va ?", it means not now; after the end, a friendly way out."""
        if state.status == IN_PROGRESS:
            on_no = self._current_step(state).on_no
            if on_no is not None:
                return self._answer_to_step(state, on_no)
        if state.resumable:
            return self.line("deny_in_session", ("resume", "question", "stop")), state
        if state.status == FINISHED:
            return self.line("session_end_no", ("contact", "question")), state
        return Reply(self.k.line("deny_idle"), self.menu()), state

    def _current_step(self, state: SessionState):
        return self.k.steps[min(max(state.last_step, 0), len(self.k.steps) - 1)]

    def _answer_to_step(self, state: SessionState, lines: tuple[str, ...]) -> tuple[Reply, SessionState]:
        reply, new_state = self.continue_session(state)
        return (Reply(lines).then(reply) if lines else reply), new_state

    # -- direct answers ---------------------------------------------------------------------
    def knows_topic(self, topic_key: Optional[str]) -> bool:
        return topic_key in self.k.topics

    def past_what_was_answered(self, topic_key: str, state: SessionState) -> SessionState:
        """A question mid-session on the very idea the next step covers (« c'est quoi les quatre
        piliers ? » just before the pillars step): that step is not shown again."""
        index = state.last_step + 1
        if not state.resumable or index >= len(self.k.steps) or not self.knows_topic(topic_key):
            return state
        if set(self.k.steps[index].covers) <= set(self.k.topics[topic_key].covers):
            return replace(state, last_step=index)
        return state

    def answer(self, topic_key: str, state: SessionState, text: str = "") -> Reply:
        """Answer a question on the text, then offer to resume the session if one is under way.
        A question that names one part of the topic (« ça sert à quoi le contrat ? ») gets that
        part, not the whole list."""
        topic = self.k.topics[topic_key]
        part = part_asked(topic, text)
        if part is not None:
            topic = replace(topic, messages=part.messages)
        related = tuple(self._topic_button(self.k.topics[key]) for key in topic.related[:2])
        offered = self._buttons(topic.offer)  # « Être rappelé » after the number: offered, never opened
        if state.resumable:
            prompt = self.k.resume_prompt.format(next_title=self.next_step_title(state) or "")
            buttons = offered + (self.k.button("resume"),) + related
            return Reply(topic.messages + (prompt,), buttons)
        if topic.offer:  # the topic's last line already says what comes next
            return Reply(topic.messages, offered + related)
        buttons = related + self._buttons(("coaching", "diagnostic"))
        return Reply(topic.messages + (self.closing_line(topic.key),), buttons)

    def closing_line(self, topic_key: str) -> str:
        """One of the closing variants, the same for a topic, different from one topic to the next."""
        prompts = self.k.after_answer_prompts
        return prompts[sum(map(ord, topic_key)) % len(prompts)]

    def answer_several(self, topic_keys: Sequence[str], state: SessionState) -> Reply:
        """Two questions in one message: each answer in turn, then one closing prompt and the
        buttons of the last one."""
        known = [key for key in dict.fromkeys(topic_keys) if self.knows_topic(key)]
        if len(known) < 2:
            return self.answer(known[0], state) if known else self.clarify([])
        first = Reply(self.k.topics[known[0]].messages)
        for key in known[1:-1]:
            first = first.then(Reply(self.k.topics[key].messages))
        return first.then(self.answer(known[-1], state))

    def answer_intents(self, intents: Sequence[str], state: SessionState) -> Reply:
        """Two questions in one message, one of them small talk (« t'es un robot ? et c'est quoi
        les piliers ? »): each reply in turn, the closing line and buttons of the last one."""
        said = [i for i in dict.fromkeys(intents) if self.knows_topic(topic_for_intent(i)) or i in SMALL_TALK]
        if not said:
            return self.clarify([])
        *first, last = said
        key = topic_for_intent(last)
        reply = self.answer(key, state) if self.knows_topic(key) else self.small_talk(last, state)
        before = self.answers_before_request(first)
        return before.then(reply) if before else reply

    def answers_before_request(self, intents: Sequence[str]) -> Optional[Reply]:
        """« c'est quoi les piliers ? et vous pouvez évaluer mon projet ? »: the answers to the
        questions asked with a request, said before the request is done; no closing line and no
        buttons, the request's own reply follows."""
        messages: list[str] = []
        for intent in dict.fromkeys(intents):
            key = topic_for_intent(intent)
            if self.knows_topic(key):
                messages += self.k.topics[key].messages
            elif intent in SMALL_TALK:
                messages += self.line(SMALL_TALK[intent][0]).messages
        return Reply(tuple(messages)) if messages else None

    def clarify(self, candidate_intents: Sequence[str]) -> Reply:
        """A message we are not sure of: offer the two likeliest topics rather than guess."""
        topics = [
            self.k.topics[key] for key in (topic_for_intent(i) for i in candidate_intents)
            if key in self.k.topics
        ][:2]
        if topics:
            buttons = tuple(self._topic_button(t) for t in topics) + (self.k.button("question"),)
            return Reply(self.k.line("clarify"), buttons)
        return Reply(self.k.line("clarify_generic"), self.menu())

    def small_talk(self, intent: Optional[str], state: SessionState) -> Reply:
        """The short reply to a small-talk intent; during a session, offer to resume it."""
        line, buttons = SMALL_TALK.get(intent or "", ("clarify_generic", ("coaching", "question")))
        if state.resumable and intent != "want_to_ask":
            buttons = ("resume", "question", "stop")
        return self.line(line, buttons)
