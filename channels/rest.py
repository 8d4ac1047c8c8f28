"""Rasa's REST channel, same URL and same JSON, hardened for the open web.

`POST /webhooks/rest/webhook` with `{"sender": "...", "message": "..."}` behaves exactly as the
stock channel for well-formed requests. What it adds:
- only `application/json` bodies (415 otherwise: a cross-origin page can post text/plain or
  a form without a CORS preflight), at most SANIC_REQUEST_MAX_SIZE bytes (a French 413);
- malformed bodies (not JSON, `[]`, a number, missing or non-string fields) and guessable sender
  ids (bot/sender_ids.py: the id is the conversation's only credential) get a 400 with a
  French message instead of the stock 500;
- an empty or blank message gets Marc's "je n'ai rien reçu" without touching the conversation;
- a huge message is cut before it reaches the tracker store (the NLU reads 2,000 characters);
- when the bot produced nothing (the action server is down, an action crashed), the visitor
  gets a short French apology instead of silence, and the conversation goes on when the
  action server is back.
"""
from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import yaml

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.knowledge import load_knowledge
from bot.paths import PROJECT_ROOT
from bot.sender_ids import refusal as sender_refusal
from channels import server_tuning

server_tuning.apply()  # the Rasa server process loads this module: tune it here (see module)

logger = logging.getLogger(__name__)

# Long enough for any pasted paragraph; a 2 MB body is not stored whole in the tracker.
MAX_STORED_MESSAGE_CHARS = 5000


def _bad_request(reason: Text) -> HTTPResponse:
    return response.json({"error": f"Requête invalide : {reason}"}, status=400)


# `/intent`, `/intent{"entity": "value"}`, `/intent@0.9`: Rasa's payload syntax (buttons).
_PAYLOAD = re.compile(r"^/(?P<intent>[\w-]+)(?P<confidence>@[0-9.]+)?(?P<entities>\{.*\})?$", re.DOTALL)


@lru_cache(maxsize=1)
def _domain_names() -> tuple[frozenset, frozenset]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8")) or {}

    def names(items: Any) -> frozenset:
        return frozenset(i if isinstance(i, str) else next(iter(i)) for i in items or ())

    return names(domain.get("intents")), names(domain.get("entities"))


def as_text_unless_payload(message: str) -> str:
    """A message starting with « / » is a button payload for Rasa, which logs the intent and
    entity names it does not know, words typed by a visitor included (« /moi@exemple.fr »):
    anything but a payload of the domain's intents is read as the text it is."""
    if not message.startswith("/"):
        return message
    match = _PAYLOAD.match(message.strip())
    intents, entities = _domain_names()
    if match and match.group("intent") in intents:
        raw = match.group("entities")
        if not raw:
            return message
        try:
            values = json.loads(raw)
        except ValueError:
            values = None
        if isinstance(values, dict) and set(values) <= entities:
            return message
        return "/" + match.group("intent")  # the button's intent, without unknown entities
    return message.lstrip("/ ")


async def _no_banner(request: Request, served: HTTPResponse) -> Optional[HTTPResponse]:
    # Rasa's « Hello from Rasa: 3.6.21 » tells a scanner which known flaws to try.
    if request.path == "/" and served.body and served.body.startswith(b"Hello from Rasa"):
        return response.json({"status": "ok"})
    return None


def _hide_the_version_banner() -> None:
    """Rasa creates its Sanic app, then asks each channel for its blueprint: the app exists."""
    from sanic import Sanic

    for app in list(Sanic._app_registry.values()):
        if app.name.startswith("rasa_") and not getattr(app.ctx, "coach_banner_hidden", False):
            app.register_middleware(_no_banner, "response")
            app.ctx.coach_banner_hidden = True


DEFAULT_MAX_TURNS = 1000


def max_turns(env: Optional[dict] = None) -> int:
    """CONVERSATION_MAX_TURNS: messages a conversation accepts (default 1,000)."""
    import os

    raw = ((os.environ if env is None else env).get("CONVERSATION_MAX_TURNS") or "").strip()
    try:
        return int(raw) if raw and int(raw) > 0 else DEFAULT_MAX_TURNS
    except ValueError:
        return DEFAULT_MAX_TURNS


def _turns_so_far(request: Request, sender: str) -> int:
    """The visitor's messages so far, from our tracker store (0 with any other store)."""
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    store = getattr(store, "_tracker_store", store)  # Rasa wraps it in a FailSafeTrackerStore
    turns = getattr(store, "turns", None)
    if turns is None:
        return 0
    try:
        return turns(sender)
    except Exception:  # the store is down: the message goes on, Rasa's fail-safe handles it
        logger.warning("Could not count the turns of conversation %s", sender)
        return 0


def _too_large(request: Request, exception: Exception) -> HTTPResponse:
    return response.json(
        {"error": "Requête invalide : message trop long (2 000 caractères au plus)."}, status=413
    )


def _bot_lines(key: Text, recipient: Text) -> list[Dict[Text, Any]]:
    return [{"recipient_id": recipient, "text": text} for text in load_knowledge().line(key)]


class CoachRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)
        _hide_the_version_banner()

        @webhook.listener("before_server_start")
        async def french_errors(app: Any, _loop: Any) -> None:
            # Sanic refuses a body over REQUEST_MAX_SIZE (SANIC_REQUEST_MAX_SIZE, set by
            # make run) before any route runs: the same French 413 as nginx in production.
            app.error_handler.add(PayloadTooLarge, _too_large)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            # JSON only: a cross-origin page may send text/plain or a form without a CORS
            # preflight; application/json always needs one, which only the allowed origins pass.
            if (request.content_type or "").split(";")[0].strip().lower() != "application/json":
                return response.json(
                    {"error": "Requête invalide : le corps doit être envoyé en application/json."}, status=415
                )
            try:
                body = request.json
            except Exception:  # sanic raises on invalid JSON
                return _bad_request("le corps doit être un objet JSON.")
            if not isinstance(body, dict):
                return _bad_request("le corps doit être un objet JSON {\"sender\", \"message\"}.")
            sender = body.get("sender")
            message = body.get("message")
            # The id is the conversation's only credential: a guessable one is refused.
            refused = sender_refusal(sender)
            if refused:
                return _bad_request(refused)
            if not isinstance(message, str):
                return _bad_request("« message » doit être un texte.")
            message = as_text_unless_payload(message[:MAX_STORED_MESSAGE_CHARS])
            if not message.strip():
                return response.json(_bot_lines("empty", sender))

            if _turns_so_far(request, sender) >= max_turns():
                # Documented limit (README): a conversation this long only costs everyone.
                return response.json(_bot_lines("conversation_too_long", sender))

            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(
                    message, collector, sender,
                    # No client metadata: nothing reads it, and Rasa would store it with
                    # every event (a 1 MB field became 4 MB of tracker rows per message).
                    input_channel=self.name(), metadata=None,
                ))
            except Exception:
                # Never log the message itself: it may hold personal data.
                logger.exception("REST message from %s could not be handled", sender)
            if not collector.messages:
                return response.json(_bot_lines("action_error", sender))
            return response.json(collector.messages)

        return webhook
