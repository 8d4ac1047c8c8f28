"""The contact form's actions: expiry of an abandoned form, no personal data replayed after a
pause, nothing of the form carried into a new session."""
import asyncio

import pytest

from actions.contact import AskConsent, ValidateContactForm
from actions.session import ActionSessionStart
from bot.contact import FIELDS, REPLAY_WINDOW_SECONDS, form_ttl_seconds, slot_for
from tests.actions.helpers import make_tracker, slot_events

FILLED = {
    "contact_name": "Alice Martin", "contact_company": "Martin Conseil",
    "contact_email": "alice@example.fr", "contact_phone": "+33612345678",
    "contact_callback": "Le matin", "contact_need": "Choisir le partenaire",
}


def user_events(*timestamps):
    return [{"event": "user", "timestamp": t, "text": "…"} for t in timestamps]


def run(action, tracker):
    from rasa_sdk.executor import CollectingDispatcher
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, tracker, {})
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return dispatcher.messages, result


@pytest.fixture(autouse=True)
def no_tracker_db(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{tmp_path}/absent.sqlite3")
    monkeypatch.delenv("CONTACT_FORM_TTL_MINUTES", raising=False)


def test_a_form_left_longer_than_its_ttl_forgets_the_values_and_starts_again():
    tracker = make_tracker(
        "affirm", "Oui, j'accepte", active_loop="contact_form",
        slots={**FILLED, "requested_slot": "contact_consent"},
        events=user_events(1000.0, 1000.0 + 31 * 60),
    )
    messages, events = run(ValidateContactForm(), tracker)
    slots = slot_events(events)
    assert all(slots[slot_for(name)] is None for name in FIELDS)
    assert "requested_slot" not in slots  # the form goes on, from the first field
    assert "effacé" in messages[0]["text"]
    assert not any("Alice" in (m.get("text") or "") for m in messages)


def test_a_form_resumed_within_its_ttl_keeps_going():
    tracker = make_tracker(
        "affirm", "Oui, j'accepte", active_loop="contact_form",
        slots={**FILLED, "requested_slot": "contact_consent"},
        events=user_events(1000.0, 1000.0 + 29 * 60),
    )
    _, events = run(ValidateContactForm(), tracker)
    assert slot_events(events) == {"contact_consent": "yes"}


def test_the_ttl_is_configurable_in_minutes(monkeypatch):
    assert form_ttl_seconds() == 30 * 60
    monkeypatch.setenv("CONTACT_FORM_TTL_MINUTES", "5")
    assert form_ttl_seconds() == 5 * 60
    tracker = make_tracker(
        "affirm", "oui", active_loop="contact_form",
        slots={**FILLED, "requested_slot": "contact_consent"},
        events=user_events(1000.0, 1000.0 + 6 * 60),
    )
    _, events = run(ValidateContactForm(), tracker)
    assert slot_events(events)["contact_name"] is None
    monkeypatch.setenv("CONTACT_FORM_TTL_MINUTES", "pas un nombre")
    assert form_ttl_seconds() == 30 * 60


def recap_text(idle):
    tracker = make_tracker(
        "inform", "Choisir le partenaire", active_loop="contact_form", slots=FILLED,
        events=user_events(1000.0, 1000.0 + idle),
    )
    messages, _ = run(AskConsent(), tracker)
    return "\n".join(m.get("text") or "" for m in messages)


def test_the_recap_shows_the_values_to_a_visitor_still_typing():
    text = recap_text(30)
    assert "Alice Martin" in text and "alice@example.fr" in text


def test_after_a_pause_the_recap_names_the_fields_without_their_values():
    text = recap_text(REPLAY_WINDOW_SECONDS + 1)
    for value in FILLED.values():
        assert value not in text
    assert "06 12 34 56 78" not in text
    assert "informations que vous m’avez données" in text and "e-mail" in text


def test_a_new_session_carries_the_coaching_state_but_never_the_contact_form():
    tracker = make_tracker(
        "greet", "re", slots={**FILLED, "requested_slot": "contact_need", "coaching_step": 3.0,
                              "diag_autonomy": "yes"},
    )
    _, events = run(ActionSessionStart(), tracker)
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
    carried = slot_events(events)
    assert carried["coaching_step"] == 3.0 and carried["diag_autonomy"] == "yes"
    assert not any(name.startswith("contact_") or name == "requested_slot" for name in carried)


def test_a_paused_then_resumed_form_is_forgotten_from_its_first_start():
    """Redacting from the resume only would keep everything typed before the pause."""
    from rasa_sdk.executor import CollectingDispatcher

    from actions.contact import forget_personal_data

    resumed = [{"event": "active_loop", "name": "contact_form", "timestamp": 500.0}]
    tracker = make_tracker("deny", "Non", slots={**FILLED, "contact_started_at": 100.0}, events=resumed)
    assert forget_personal_data(tracker, CollectingDispatcher()) == [
        {"event": "slot", "timestamp": None, "name": "forget_since", "value": 100.0}]


def test_a_paused_form_carried_over_a_rollover_is_still_forgotten():
    """After a rollover the session holds the slots but no activation of the form."""
    from rasa_sdk.executor import CollectingDispatcher

    from actions.contact import forget_personal_data

    dispatcher = CollectingDispatcher()
    tracker = make_tracker("restart", "recommencer", slots={**FILLED, "contact_started_at": 100.0})
    assert slot_events(forget_personal_data(tracker, dispatcher))["forget_since"] == 100.0
    assert dispatcher.messages[0]["custom"] == {"type": "forget"}  # the widget forgets too


def test_a_fresh_contact_request_remembers_when_the_form_started():
    from actions.contact import ActionStartContact

    _, events = run(ActionStartContact(), make_tracker("request_contact", "je veux être rappelé"))
    assert slot_events(events)["contact_started_at"] > 1_700_000_000
    _, events = run(ActionStartContact(), make_tracker("request_contact", "reprendre", slots={
        **FILLED, "contact_started_at": 100.0}))
    assert "contact_started_at" not in slot_events(events)  # resumed: the first start stays
