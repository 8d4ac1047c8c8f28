"""The widget in a real browser against the real bot (live stack from tests/conftest.py)."""
import pytest

from bot.diagnostic import load_questionnaire
from bot.knowledge import load_knowledge
from bot.leads.service import LeadService
from tests.web.conftest import PHONE

pytestmark = pytest.mark.e2e
K = load_knowledge()
Q = load_questionnaire()
SLOW_MS = 60_000  # the real bot, on a busy 2-core machine


@pytest.fixture
def live_chat(chat_factory, live_stack):
    assert live_stack.web_url, "web/serve.py is missing"
    # The widget gives up on a reply after 30 s; the real bot may be slower than that on a
    # loaded 2-core machine, and the tests wait SLOW_MS for it.
    return chat_factory(live_stack.web_url + "/", widget_config={"requestTimeoutMs": SLOW_MS})


def test_greeting_guided_session_and_a_direct_question(live_chat):
    chat = live_chat
    chat.open()
    chat.wait_bot_count(len(K.lines["greet"]), SLOW_MS)
    assert chat.bot_texts()[: len(K.lines["greet"])] == list(K.lines["greet"])
    chat.click_reply(K.buttons["coaching"].title, timeout=SLOW_MS)
    chat.wait_bot_count(len(K.lines["greet"]) + len(K.steps[0].messages), SLOW_MS)
    assert chat.bot_texts()[-1] == K.steps[0].messages[-1]
    chat.click_reply(K.buttons["continue"].title, timeout=SLOW_MS)
    chat.page.wait_for_function(
        "t => [...document.querySelectorAll('.cp-msg--bot .cp-bubble')].some(b => b.textContent.includes(t))",
        arg=K.steps[1].messages[-1][:40], timeout=SLOW_MS,
    )
    chat.send("C'est quoi les quatre piliers ?", timeout=SLOW_MS)
    chat.page.wait_for_function(
        "t => [...document.querySelectorAll('.cp-msg--bot .cp-bubble')].some(b => b.textContent.includes(t))",
        arg="même envie", timeout=SLOW_MS,
    )
    chat.screenshot("live-desktop-session.png")
    before = chat.bot_texts()
    chat.page.reload()
    chat.panel.wait_for(state="visible")
    assert chat.bot_texts() == before                       # the conversation survives a reload


def test_diagnostic_to_its_picture_then_contact_form_to_a_stored_lead(chat_factory, live_stack):
    chat = chat_factory(live_stack.web_url + "/", viewport=PHONE,
                        widget_config={"requestTimeoutMs": SLOW_MS})
    chat.open()
    chat.wait_bot_count(len(K.lines["greet"]), SLOW_MS)
    chat.click_reply(K.buttons["diagnostic"].title, timeout=SLOW_MS)
    for title in ["Un partenaire"] + ["Oui"] * 8 + ["Non", "Oui", "En partie"]:
        chat.click_reply(title, timeout=SLOW_MS)
    figure = chat.page.locator("figure.cp-diag")
    figure.wait_for(state="visible", timeout=SLOW_MS)
    assert figure.locator("svg.cp-table").get_attribute("data-missing-legs") == "1"
    figure.scroll_into_view_if_needed()
    chat.screenshot("live-phone-diagnostic.png")
    chat.click_reply(K.buttons["contact"].title, timeout=SLOW_MS)
    for text in ["Claire Dupont", "Atelier Dupont", "claire@atelier-dupont.fr", "+33 6 12 34 56 78", "Peu importe"]:
        chat.send(text, timeout=SLOW_MS)
    chat.click_reply("Construire la relation", timeout=SLOW_MS)
    chat.click_reply("Oui, j’accepte", timeout=SLOW_MS)
    assert chat.bot_texts()[-2] == K.lines["contact_done"][0]
    service = LeadService.from_env({**live_stack.env, "LEADS_DELIVER_ON_SUBMIT": "false"})
    try:
        stored = [lead for lead in service.export() if lead["email"] == "claire@atelier-dupont.fr"]
    finally:
        service.close()
    assert len(stored) == 1 and stored[0]["missing_pillars"] == ["contract"]


def test_booking_a_meeting_from_the_widget(chat_factory, live_stack):
    """Issue 14: the slots are buttons, the mode too, then the details, the consent and the
    confirmation, as a visitor on a phone sees them."""
    chat = chat_factory(live_stack.web_url + "/", viewport=PHONE,
                        widget_config={"requestTimeoutMs": SLOW_MS})
    chat.open()
    chat.wait_bot_count(len(K.lines["greet"]), SLOW_MS)
    chat.send("Je voudrais prendre rendez-vous avec un consultant", timeout=SLOW_MS)
    slot = chat.page.locator(".cp-quick-btn:enabled").filter(has_text=" h ").first
    slot.wait_for(state="visible", timeout=SLOW_MS)
    title = slot.inner_text().strip()
    chat.screenshot("live-phone-booking-slots.png")
    chat.click_reply(title, timeout=SLOW_MS)
    chat.click_reply("En visio", timeout=SLOW_MS)
    for text in ["Karim Benali", "Benali Transports", "karim@benali-transports.fr", "non"]:
        chat.send(text, timeout=SLOW_MS)
    chat.click_reply("Choisir le partenaire", timeout=SLOW_MS)
    chat.click_reply("Oui, j’accepte", timeout=SLOW_MS)
    chat.page.wait_for_function(
        "t => [...document.querySelectorAll('.cp-msg--bot .cp-bubble')].some(b => b.textContent.includes(t))",
        arg="C’est réservé", timeout=SLOW_MS,
    )
    confirmation = [t for t in chat.bot_texts() if t.startswith("C’est réservé")][0]
    assert title.replace("\u202f", " ") in confirmation.replace("\u202f", " ")
    chat.screenshot("live-phone-booking-done.png")
