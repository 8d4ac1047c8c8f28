"""Booking a meeting over the REST channel, against the live stack and its real Radicale
(issue 14): slots as buttons, other slots on request, the contact form's details and
consent, the booking in the calendar, cancel and move, bad input, the calendar down."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from bot.booking.settings import default_settings
from bot.booking.slots import slot_label
from bot.knowledge import load_knowledge
from bot.leads.db import make_engine
from bot.leads.models import Booking
from bot.typography import french_spacing
from tests.e2e.helpers import new_sender, texts

pytestmark = pytest.mark.e2e
K = load_knowledge()
SLOT_TITLE = re.compile(r"^(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d{1,2}(er)? \w+, \d{1,2} h \d{2}$")


def slot_titles(messages):
    return [b["title"] for m in messages for b in m.get("buttons", []) if SLOT_TITLE.match(b["title"].replace("\u202f", " ").replace("\u00a0", " "))]


def bookings(stack, sender):
    engine = make_engine(stack.leads_db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.select(Booking.status, Booking.start_at, Booking.mode, Booking.sequence)
                                      .where(Booking.sender_id == sender).order_by(Booking.id)).all()
    finally:
        engine.dispose()


def book_until_consent(stack, sender, first="je voudrais un rendez-vous avec un consultant"):
    offer = stack.chat(sender, first)
    titles = slot_titles(offer)
    assert 3 <= len(titles) <= 5, texts(offer)
    mode = stack.chat(sender, titles[0])
    assert texts(mode)[-1] == french_spacing(K.line("booking_mode_question")[0])
    details = texts(stack.chat(sender, "En visio"))
    assert details[0].startswith("Parfait") and details[-1] == french_spacing(K.contact_questions["name"][0])
    for text in ["Paul Durand", "Durand Logistique", "paul.durand@durand-logistique.fr", "non", "Piloter la relation"]:
        last = stack.chat(sender, text)
    assert any("Vos droits" in t or "accepte" in t for t in texts(last)), texts(last)  # the consent step
    return titles[0]


def test_a_visitor_books_a_meeting_then_cancels_it(live_stack):
    sender = new_sender()
    chosen = book_until_consent(live_stack, sender)
    done = texts(live_stack.chat(sender, "Oui, j'accepte"))
    assert done[0].startswith("C’est réservé") and chosen.replace("\u202f", " ") in done[0].replace("\u202f", " ")
    [(status, start, mode, sequence)] = bookings(live_stack, sender)
    assert (status, mode, sequence) == ("booked", "video", 0)
    assert slot_label(default_settings(), start.replace(tzinfo=dt.timezone.utc)) == chosen.replace("\u202f", " ")
    # Asking again: Marc says there is one already, and offers to move or cancel it.
    again = live_stack.chat(sender, "je voudrais un rendez-vous")
    assert "déjà un rendez-vous" in texts(again)[0]
    # Another conversation cannot cancel it.
    other = texts(live_stack.chat(new_sender(), "annuler mon rendez-vous"))
    assert "aucun rendez-vous" in other[0]
    assert bookings(live_stack, sender)[0][0] == "booked"
    cancelled = texts(live_stack.chat(sender, "je dois annuler mon rendez-vous"))
    assert cancelled[0].startswith("C’est annulé")
    assert bookings(live_stack, sender)[0][0] == "cancelled"
    twice = texts(live_stack.chat(sender, "annuler mon rendez-vous"))
    assert "aucun rendez-vous" in twice[0]


def test_no_consent_books_nothing(live_stack):
    sender = new_sender()
    book_until_consent(live_stack, sender)
    live_stack.chat(sender, "Non")
    assert bookings(live_stack, sender) == []


def test_other_slots_on_request_and_a_move(live_stack):
    sender = new_sender()
    first = slot_titles(live_stack.chat(sender, "on peut prendre rendez-vous ?"))
    later = slot_titles(live_stack.chat(sender, "D’autres créneaux"))
    assert later and not set(later) & set(first)
    afternoon = slot_titles(live_stack.chat(sender, "plutôt l'après-midi"))
    hours = [int(re.search(r"(\d{1,2}) h", t).group(1)) for t in afternoon]
    assert afternoon and all(h >= 13 for h in hours)
    impossible = texts(live_stack.chat(sender, "le 31 février ?"))
    assert "n’existe pas" in impossible[0] or "n'existe pas" in impossible[0]
    # A slot that was never shown, typed by hand (or forged in the REST body), is not taken.
    forged = live_stack.chat(sender, "samedi 5 décembre, 3 h 00")
    assert not any("Téléphone ou" in t or "téléphone ou en visio" in t for t in texts(forged))
    # Choose in words, by phone; this conversation has no lead yet: the details come next.
    live_stack.chat(sender, "le premier")
    live_stack.chat(sender, "par téléphone")
    for text in ["Léa Martin", "Martin Conseil", "pas d'e-mail", "06 12 34 56 78", "Construire la relation"]:
        live_stack.chat(sender, text)
    done = texts(live_stack.chat(sender, "Oui, j'accepte"))
    assert done[0].startswith("C’est réservé") and "appellera" in done[0]
    [(_, start, mode, _)] = bookings(live_stack, sender)
    assert mode == "phone"
    moved = live_stack.chat(sender, "je voudrais déplacer mon rendez-vous")
    titles = slot_titles(moved)
    assert titles and texts(moved)[0].startswith("On déplace")
    live_stack.chat(sender, titles[-1])
    [(status, new_start, _, sequence)] = bookings(live_stack, sender)
    assert status == "booked" and sequence == 1 and new_start != start


def test_a_question_while_slots_are_shown_is_answered_then_the_slots_come_back(live_stack):
    sender = new_sender()
    live_stack.chat(sender, "je veux réserver un rendez-vous")
    reply = live_stack.chat(sender, "c'est quoi les 4 piliers ?")
    assert any("pilier" in t.lower() or "envie" in t.lower() for t in texts(reply))
    assert slot_titles(reply)  # the slots again, under the answer
    stopped = texts(live_stack.chat(sender, "stop"))
    assert stopped[0].startswith("D’accord, on laisse le rendez-vous")


def test_calendar_down_becomes_a_callback(live_stack, radicale):
    sender = new_sender()
    radicale.stop()
    try:
        reply = live_stack.chat(sender, "je voudrais un rendez-vous")
        assert "ne répond pas" in texts(reply)[0]
        assert not slot_titles(reply)
    finally:
        radicale.start()
    assert slot_titles(live_stack.chat(new_sender(), "je voudrais un rendez-vous"))
