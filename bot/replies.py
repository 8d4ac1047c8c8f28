"""What Marc says, independent of any chat framework.

The Rasa actions translate a `Reply` into dispatcher calls; tests read it directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One turn of Marc: a few short bubbles, then buttons under the last one."""

    messages: tuple[str, ...]
    buttons: tuple[Button, ...] = ()
    custom: Optional[dict[str, Any]] = field(default=None, compare=False)

    def then(self, other: "Reply") -> "Reply":
        """This reply followed by another; the buttons (and payload) of the last one win."""
        return Reply(
            messages=self.messages + other.messages,
            buttons=other.buttons or self.buttons,
            custom=other.custom if other.custom is not None else self.custom,
        )

    @property
    def text(self) -> str:
        return "\n".join(self.messages)
