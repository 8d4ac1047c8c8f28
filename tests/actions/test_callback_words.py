"""The callback moment reaches the lead in the visitor's own words (issue 15): typed in the
contact form, or said when preferring a call to a meeting, never replaced by a canned value."""
import pytest

import actions.booking as booking_actions
import actions.contact as contact_actions
from actions.booking import ActionBookingChosen
from actions.contact import ActionSubmitLead, ValidateContactForm
from bot.booking.dialogue import CALLBACK
from bot.callback import normalise_moment
from tests.actions.helpers import make_tracker, run_action, slot_events

DETAILS = {
    "contact_name": "Paul Durand", "contact_company": "Durand Logistique",
    "contact_email": "paul.durand@durand-logistique.fr", "contact_phone": "+33698765432",
}


class FakeLeads:
    """Stands for LeadService: keeps the submission the action built."""

    def __init__(self):
        self.submissions = []

    def submit(self, submission):
        self.submissions.append(submission)
        return 7


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{tmp_path}/absent.sqlite3")
    monkeypatch.setenv("LEADS_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("CONTACT_FORM_TTL_MINUTES", raising=False)
    # No calendar nor database: the callback branch needs neither.
    monkeypatch.setattr(booking_actions, "booking_service", lambda: object())


@pytest.fixture
def leads(monkeypatch):
    fake = FakeLeads()
    monkeypatch.setattr(contact_actions, "lead_service", lambda: fake)
    return fake


def followups(events):
    return [e["name"] for e in events if e.get("event") == "followup"]


def submitted(leads, slots):
    tracker = make_tracker("affirm", "Oui, j'accepte", slots={**slots, "contact_consent": "yes"})
    run_action(ActionSubmitLead(), tracker)
    return leads.submissions[-1]


def test_a_moment_typed_in_the_contact_form_is_kept_in_the_visitors_words(leads):
    words = "plutôt en fin de journée, après 17h"
    tracker = make_tracker("inform", words, active_loop="contact_form",
                           slots={**DETAILS, "requested_slot": "contact_callback"})
    _, events = run_action(ValidateContactForm(), tracker)
    assert slot_events(events) == {"contact_callback": words}  # not « L’après-midi », the button
    submission = submitted(leads, {**DETAILS, "contact_callback": words, "contact_need": "-"})
    assert submission.callback_time == words
    assert normalise_moment(submission.callback_time) == "17 h – 19 h"  # the lead's callback_window


def test_a_call_back_asked_with_a_moment_instead_of_a_meeting_keeps_the_words(leads):
    words = "rappelez-moi plutôt, après 17h"
    tracker = make_tracker("inform", words, active_loop="booking_form",
                           slots={"booking_slot": CALLBACK, "booking_mode": "phone"})
    _, events = run_action(ActionBookingChosen(), tracker)
    slots = slot_events(events)
    assert slots["contact_callback"] == words
    assert followups(events) == ["contact_form"]
    submission = submitted(leads, {**DETAILS, "contact_callback": slots["contact_callback"], "contact_need": "-"})
    assert submission.callback_time == words and normalise_moment(words) == "17 h – 19 h"


def test_the_call_back_button_says_no_moment_so_the_form_asks_it():
    tracker = make_tracker("inform", "Plutôt être rappelé", active_loop="booking_form",
                           slots={"booking_slot": CALLBACK, "booking_mode": "phone"})
    _, events = run_action(ActionBookingChosen(), tracker)
    slots = slot_events(events)
    assert slots.get("contact_callback") is None  # no canned « rappel plutôt qu’un rendez-vous »
    assert not any("rendez-vous" in str(v) for v in slots.values() if isinstance(v, str))
    assert followups(events) == ["contact_form"]
