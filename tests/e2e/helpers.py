"""Reading the bot's REST replies in the e2e tests."""
import uuid


def new_sender(prefix: str = "test") -> str:
    """A conversation id as the widget makes one (random: guessable ids are refused)."""
    return f"{prefix}-{uuid.uuid4()}"


def texts(messages):
    return [m["text"] for m in messages if m.get("text")]


def payloads(messages):
    return [b["payload"] for m in messages for b in m.get("buttons", [])]


def customs(messages):
    return [m["custom"] for m in messages if m.get("custom")]
