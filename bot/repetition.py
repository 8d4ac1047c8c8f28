"""A visitor who sends the same message again must not get the same bubbles again.

Marc answering « c’est-à-dire ? » twice with the same paragraph, or asking the same form
question twice word for word, reads like a machine stuck in a loop. When the visitor's message
repeats the previous one and Marc's reply would repeat his previous reply, the reply becomes
one short, helpful line instead (which buttons to click, how to skip, how to rephrase), with
the same buttons.
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping, Optional, Sequence

from bot.nlp import fold
from bot.replies import Reply


def previous_turn(events: Iterable[Mapping]) -> tuple[Optional[str], tuple[str, ...], Optional[str]]:
    """(the visitor's previous message, Marc's bubbles in answer to it, the current message)
    from a tracker's events (rasa-sdk dicts), oldest first."""
    users: list[str] = []
    bot_after: list[list[str]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            users.append(event.get("text") or "")
            bot_after.append([])
        elif kind == "bot" and bot_after and event.get("text"):
            bot_after[-1].append(event["text"])
        elif kind == "restart":
            users, bot_after = [], []
    if len(users) < 2:
        return None, (), users[-1] if users else None
    return users[-2], tuple(bot_after[-2]), users[-1]


def _words(text: str) -> list[str]:
    """« C’est-à-dire ? » and « c'est a dire » are the same message."""
    return re.findall(r"\w+", fold(text))


def is_repeat(previous_message: Optional[str], previous_reply: Sequence[str],
              message: Optional[str], reply: Reply) -> bool:
    if not previous_message or not message or not previous_reply:
        return False
    same_message = _words(previous_message) == _words(message)
    return same_message and tuple(reply.messages) == tuple(previous_reply)


def hint_key(reply: Reply, active_form: Optional[str]) -> str:
    """Which of the content's `repeated_*` lines fits: buttons to click, the diagnostic's
    « je ne sais pas », the contact form's pause, or rephrasing."""
    if reply.buttons:
        return "repeated_buttons"
    if active_form == "diagnostic_form":
        return "repeated_diagnostic"
    if active_form == "contact_form":
        return "repeated_contact"
    return "repeated_free"
