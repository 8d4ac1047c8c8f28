"""The funnel's markers (markers/*.yml) evaluated with Rasa's own engine on a conversation's
events, so the back office and ``rasa evaluate markers`` count the same way: sessions split
at ``action_session_start``, a marker « applied » in a session when Rasa reports it there.

The back office (bot/backoffice/funnel.py, plain Python) receives this module's
:func:`evaluate` as its evaluator: Rasa stays on this side of the line.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, FrozenSet, List, Optional, Sequence


@dataclass(frozen=True)
class SessionMarkers:
    sender_id: str
    session_index: int
    started_at: Optional[float]  # the first event's timestamp (UNIX seconds)
    applied: FrozenSet[str]


@lru_cache(maxsize=4)
def load_markers(path: str):  # noqa: ANN201
    from rasa.core.evaluation.marker_base import Marker

    return Marker.from_path(path)


def marker_names(path: str) -> List[str]:
    return [m.name for m in load_markers(path).sub_markers]


def _event(event_class, data: Dict[str, Any]):  # noqa: ANN001,ANN202
    """One stored event as Rasa's, or None for one Rasa cannot rebuild (an old or odd type,
    a field the broker left out): skipped rather than failing the whole page."""
    try:
        return event_class.from_parameters(dict(data))
    except Exception:  # noqa: BLE001 - Rasa raises TypeError, ValueError, KeyError…
        return None


def evaluate(path: str, sender_id: str, events: Sequence[Dict[str, Any]]) -> List[SessionMarkers]:
    from rasa.core.evaluation.marker_base import Marker
    from rasa.shared.core.events import Event

    parsed = [e for e in (_event(Event, d) for d in events) if e is not None]
    marker = load_markers(path)
    results = marker.evaluate_events(parsed)
    starts = Marker._split_sessions(parsed)  # the same split evaluate_events just used
    sessions = []
    for index, (found, (session_events, _)) in enumerate(zip(results, starts)):
        sessions.append(SessionMarkers(
            sender_id=sender_id,
            session_index=index,
            started_at=session_events[0].timestamp if session_events else None,
            applied=frozenset(name for name, hits in found.items() if hits),
        ))
    return sessions
