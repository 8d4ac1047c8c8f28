"""The chat widget in a real browser (Debian's chromium), against a scripted fake Rasa server."""
from __future__ import annotations

import functools
import json
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
GREETING = "Bonjour ! Moi, c'est Marc, de Sales In Progress.\nEn ce moment, je deal à donf… des partenariats !"

pytestmark = pytest.mark.e2e

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_nothing_stored_before_the_visitor_opens_the_chat(chat, fake_rasa):
    page = chat.page
    page.wait_for_timeout(300)  # let any deferred script run
    assert page.evaluate("() => localStorage.length") == 0
    assert page.evaluate("() => sessionStorage.length") == 0
    assert page.evaluate("() => document.cookie") == ""
    assert chat.context.cookies() == []
    assert fake_rasa.requests == []  # nothing sent to the bot either
    assert chat.panel.is_hidden()
    assert chat.launcher.get_attribute("aria-expanded") == "false"

    chat.open_and_wait_greeting()
    state = chat.stored_state()
    assert state is not None and UUID_RE.match(state["senderId"])
    assert chat.context.cookies() == []


def test_launcher_opens_and_marc_greets(chat, fake_rasa):
    assert chat.launcher.inner_text().strip() == "Discuter avec Marc"
    chat.open_and_wait_greeting()
    assert chat.launcher.get_attribute("aria-expanded") == "true"
    assert chat.page.evaluate("() => document.activeElement.id") == "cp-input"
    # /greet is sent silently: no visitor bubble
    sender = chat.stored_state()["senderId"]
    assert fake_rasa.messages(sender) == ["/greet"]
    assert chat.user_bubbles.count() == 0
    texts = chat.bot_texts()
    assert texts[0] == GREETING  # line break kept
    assert chat.bot_bubbles.first.locator("br").count() == 1
    assert chat.page.get_by_role("log").get_attribute("aria-live") == "polite"


def test_quick_replies_send_their_payload_and_older_ones_are_disabled(chat, fake_rasa):
    chat.open_and_wait_greeting()
    first = chat.page.locator(".cp-quick-btn", has_text="Les clés d'un partenariat")
    other = chat.page.locator(".cp-quick-btn", has_text="Évaluer mon projet")
    assert first.is_enabled() and other.is_enabled()

    chat.click_reply("Les clés d'un partenariat")
    sender = chat.stored_state()["senderId"]
    assert fake_rasa.messages(sender) == ["/greet", "/start_session"]
    assert chat.user_texts() == ["Les clés d'un partenariat"]  # the title, not the payload
    assert first.is_disabled() and other.is_disabled()
    assert "cp-quick-btn--chosen" in first.get_attribute("class")
    newest = chat.page.locator(".cp-quick-btn", has_text="La suite")
    assert newest.is_enabled()

    # typing a message also retires the offered buttons
    chat.send("Je préfère écrire")
    assert newest.is_disabled()
    assert fake_rasa.messages(sender)[-1] == "Je préfère écrire"


def test_text_with_links_is_rendered_safely(chat, fake_rasa):
    chat.open_and_wait_greeting()
    chat.send("Votre site ?")
    bubble = chat.bot_bubbles.last
    links = bubble.locator("a")
    assert links.count() == 2
    assert links.nth(0).inner_text() == "www.salesinprogress.com"
    assert links.nth(0).get_attribute("href") == "https://www.salesinprogress.com/"
    assert links.nth(1).inner_text() == "https://www.salesinprogress.com/contact"  # trailing dot left out
    assert links.nth(1).get_attribute("href") == "https://www.salesinprogress.com/contact"
    for i in range(2):
        assert links.nth(i).get_attribute("target") == "_blank"
        assert "noopener" in links.nth(i).get_attribute("rel")
    text = bubble.inner_text()
    assert "javascript:alert(1)" in text and "<b>gras</b>" in text
    assert bubble.locator("b").count() == 0
    assert bubble.locator("br").count() == 1


def test_html_from_the_visitor_and_the_bot_stays_text(chat, fake_rasa):
    payload = "<img src=x onerror=alert(1)>"
    chat.open_and_wait_greeting()
    chat.send(payload)
    assert chat.user_texts()[-1] == payload
    assert chat.bot_texts()[-1] == f"Vous avez écrit : {payload}"
    assert chat.page.locator("img").count() == 0
    chat.page.wait_for_timeout(300)
    assert chat.dialogs == []
    assert fake_rasa.messages()[-1] == payload

    # the same text, read back from the stored history, is still text
    chat.page.reload()
    chat.panel.wait_for(state="visible")
    assert chat.user_texts()[-1] == payload
    assert chat.page.locator("img").count() == 0
    chat.page.wait_for_timeout(300)
    assert chat.dialogs == []


def test_typing_indicator_while_waiting(chat, fake_rasa):
    chat.open_and_wait_greeting()
    assert chat.typing.is_hidden()
    fake_rasa.delay = 0.8
    chat.send("Vous êtes là ?", wait=False)
    chat.typing.wait_for(state="visible", timeout=2000)
    assert "écrire" in chat.typing.inner_text()
    chat.wait_bot_count(3)
    assert chat.typing.is_hidden()


def test_reload_keeps_the_conversation(chat, fake_rasa):
    chat.open_and_wait_greeting()
    chat.click_reply("Les clés d'un partenariat")
    chat.send("Et les fournisseurs ?")
    sender = chat.stored_state()["senderId"]
    bots, users = chat.bot_texts(), chat.user_texts()
    sent = len(fake_rasa.requests)

    chat.page.reload()
    chat.panel.wait_for(state="visible")  # it was open: it opens again, history shown
    assert chat.bot_texts() == bots and chat.user_texts() == users
    assert chat.stored_state()["senderId"] == sender
    assert len(fake_rasa.requests) == sent  # no second greeting
    # only the newest buttons are active after the reload
    assert chat.page.locator(".cp-quick-btn:enabled").count() == 0

    chat.send("Et ensuite ?")
    assert fake_rasa.messages(sender)[-1] == "Et ensuite ?"

    # closed before the reload: stays closed, and opening shows the same history
    chat.page.keyboard.press("Escape")
    chat.page.reload()
    chat.launcher.wait_for(state="visible")
    chat.page.wait_for_timeout(200)
    assert chat.panel.is_hidden()
    chat.open()
    assert chat.user_texts()[-1] == "Et ensuite ?"
    assert fake_rasa.senders() == [sender]


def test_new_conversation_starts_afresh(chat, fake_rasa):
    chat.open_and_wait_greeting()
    chat.send("Premier message")
    old_sender = chat.stored_state()["senderId"]

    chat.page.get_by_role("button", name="Nouvelle conversation").click()
    chat.wait_bot_count(2)
    new_sender = chat.stored_state()["senderId"]
    assert new_sender != old_sender and UUID_RE.match(new_sender)
    assert chat.user_texts() == []
    assert chat.bot_texts()[0] == GREETING
    assert fake_rasa.messages(new_sender) == ["/greet"]
    assert len(chat.stored_state()["messages"]) == 2


def test_server_unreachable_then_retry_recovers(chat, fake_rasa):
    page = chat.page
    page.route("**/webhooks/rest/webhook", lambda route: route.abort("connectionrefused"))
    chat.open()
    chat.error.wait_for(state="visible")
    assert "Impossible de joindre Marc" in chat.error.inner_text()
    assert chat.error.get_attribute("role") == "alert"
    retry = page.get_by_role("button", name="Réessayer")
    assert retry.is_visible()

    page.unroute("**/webhooks/rest/webhook")
    retry.click()
    chat.wait_bot_count(1)
    assert chat.error.is_hidden()
    assert chat.bot_texts()[0] == GREETING


def test_server_error_keeps_the_unsent_message_and_retry_sends_it(chat, fake_rasa):
    chat.open_and_wait_greeting()
    sender = chat.stored_state()["senderId"]
    fake_rasa.status = 500
    chat.send("Mon projet avec un confrère", wait=False)
    chat.error.wait_for(state="visible")
    assert "serveur" in chat.error.inner_text()
    assert "Votre message n’est pas perdu" in chat.error.inner_text()
    failed = chat.page.locator(".cp-msg--user.cp-msg--failed")
    assert failed.count() == 1 and "Non envoyé" in failed.inner_text()
    assert chat.stored_state()["queue"][0]["payload"] == "Mon projet avec un confrère"
    chat.screenshot("web-desktop-error.png")

    fake_rasa.status = 200
    chat.page.get_by_role("button", name="Réessayer").click()
    chat.wait_bot_count(3)
    assert chat.error.is_hidden()
    assert failed.count() == 0
    assert chat.bot_texts()[-1] == "Vous avez écrit : Mon projet avec un confrère"
    assert fake_rasa.messages(sender)[-1] == "Mon projet avec un confrère"
    assert chat.stored_state()["queue"] == []


@pytest.mark.parametrize("status, expected", [
    (429, "Vous écrivez plus vite que Marc ne peut lire"),
    (503, "Marc est momentanément indisponible"),
    (413, "Ce message est trop long"),
])
def test_nginx_refusals_are_explained_and_the_message_is_kept(chat, fake_rasa, status, expected):
    chat.open_and_wait_greeting()
    fake_rasa.status = status
    chat.send("Une question sur les piliers", wait=False)
    chat.error.wait_for(state="visible")
    assert expected in chat.error.inner_text()
    assert "Votre message n’est pas perdu" in chat.error.inner_text()
    fake_rasa.status = 200
    chat.page.get_by_role("button", name="Réessayer").click()
    chat.wait_bot_count(3)
    assert chat.error.is_hidden()


def test_unsent_message_survives_a_reload(chat, fake_rasa):
    chat.open_and_wait_greeting()
    fake_rasa.status = 502
    chat.send("Message important", wait=False)
    chat.error.wait_for(state="visible")
    chat.page.reload()
    chat.panel.wait_for(state="visible")
    chat.error.wait_for(state="visible")
    assert "n’a pas reçu de réponse" in chat.error.inner_text()
    assert "Non envoyé" in chat.page.locator(".cp-msg--user").last.inner_text()
    fake_rasa.status = 200
    chat.page.get_by_role("button", name="Réessayer").click()
    chat.wait_bot_count(3)
    assert chat.bot_texts()[-1] == "Vous avez écrit : Message important"
    assert chat.page.locator(".cp-msg--failed").count() == 0


def test_input_is_limited_to_2000_characters(chat, fake_rasa):
    chat.open_and_wait_greeting()
    hint = chat.page.locator("#cp-hint")
    assert "0\u00a0/\u00a02\u00a0000 caractères" in hint.inner_text()
    assert chat.input.get_attribute("maxlength") == "2000"
    chat.input.focus()
    chat.page.keyboard.insert_text("a" * 2100)
    assert len(chat.input.input_value()) == 2000
    assert "2\u00a0000\u00a0/\u00a02\u00a0000" in hint.inner_text()
    assert chat.input.get_attribute("aria-describedby") == "cp-hint"


def test_diagnostic_is_drawn_as_a_table_with_a_missing_leg(chat, fake_rasa):
    chat.open_and_wait_greeting()
    chat.click_reply("Évaluer mon projet")
    fig = chat.page.locator("figure.cp-diag")
    fig.wait_for(state="visible")
    assert "Un partenariat prometteur, mais encore bancal" in fig.inner_text()
    assert fig.locator(".cp-diag-score-value").inner_text() == "62"

    svg = fig.locator("svg.cp-table")
    assert svg.get_attribute("role") == "img"
    assert svg.get_attribute("data-missing-legs") == "2"
    legs = svg.locator("g.cp-leg")
    assert legs.count() == 4
    info = chat.page.evaluate(
        """() => [...document.querySelectorAll('svg.cp-table g.cp-leg')].map(g => {
            const shape = g.querySelector('.cp-leg-shape');
            const cs = getComputedStyle(shape);
            return {key: g.dataset.pillar, present: g.dataset.present,
                    label: g.querySelector('.cp-leg-label').textContent,
                    dash: shape.getAttribute('stroke-dasharray'), fill: cs.fill, stroke: cs.stroke,
                    height: shape.getBBox().height};
        })"""
    )
    by_key = {leg["key"]: leg for leg in info}
    assert [leg["key"] for leg in info] == ["shared_desire", "common_project", "balance", "contract"]
    for key in ("shared_desire", "common_project"):
        assert by_key[key]["present"] == "true"
        assert by_key[key]["dash"] is None and by_key[key]["fill"] != "none"
    for key in ("balance", "contract"):  # partly / no: the leg is drawn missing (dashed outline, no fill)
        assert by_key[key]["present"] == "false"
        assert by_key[key]["dash"] == "5 4" and by_key[key]["fill"] == "none"
    assert by_key["contract"]["label"] == "Le contrat"
    title = svg.locator("title").text_content()
    assert "il manque 2 pieds sur 4" in title
    assert "Le contrat (non)" in svg.locator("desc").text_content()

    criteria = fig.locator(".cp-criteria li")
    assert criteria.count() == 5
    answers = [criteria.nth(i).get_attribute("data-answer") for i in range(5)]
    assert answers == ["yes", "yes", "partly", "no", "yes"]
    assert "non" in criteria.nth(3).inner_text()
    assert fig.locator(".cp-extras li").count() == 2
    # the buttons sent with the verdict come under the picture, not above it
    under = chat.page.locator(".cp-msg--bot", has=fig).locator(".cp-quick-btn")
    assert under.all_inner_texts() == ["Être rappelé", "Non merci"]
    assert chat.page.evaluate(
        "() => document.querySelector('figure.cp-diag').compareDocumentPosition("
        "[...document.querySelectorAll('.cp-quick-btn')].pop()) & Node.DOCUMENT_POSITION_FOLLOWING"
    )


def test_keyboard_only(chat, fake_rasa):
    page = chat.page
    page.locator("body").focus()
    for _ in range(40):  # Tab through the page until the launcher
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('cp-launcher')"):
            break
    else:
        pytest.fail("the launcher cannot be reached with Tab")
    page.keyboard.press("Enter")
    chat.panel.wait_for(state="visible")
    assert page.evaluate("() => document.activeElement.id") == "cp-input"
    chat.wait_bot_count(2)

    # a quick reply, reached backwards from the input, then Enter
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.activeElement.classList.contains('cp-quick-btn')"):
            break
    else:
        pytest.fail("no quick reply reachable with the keyboard")
    assert page.evaluate("() => document.activeElement.textContent") == "Évaluer mon projet"
    page.keyboard.press("Enter")
    chat.wait_bot_count(4)
    assert fake_rasa.messages()[-1] == "/start_diagnostic"
    assert page.evaluate("() => document.activeElement.id") == "cp-input"  # focus not lost

    page.keyboard.type("Bonjour Marc")
    page.keyboard.press("Enter")
    chat.wait_bot_count(5)
    assert chat.user_texts() == ["Évaluer mon projet", "Bonjour Marc"]

    page.keyboard.press("Escape")
    assert chat.panel.is_hidden()
    assert page.evaluate("() => document.activeElement.classList.contains('cp-launcher')")
    assert chat.launcher.get_attribute("aria-expanded") == "false"

    page.keyboard.press("Enter")
    chat.panel.wait_for(state="visible")
    assert page.evaluate("() => document.activeElement.id") == "cp-input"
    assert chat.user_texts() == ["Évaluer mon projet", "Bonjour Marc"]


def test_quick_reply_by_keyboard(chat, fake_rasa):
    page = chat.page
    chat.open_and_wait_greeting()
    button = page.locator(".cp-quick-btn", has_text="Évaluer mon projet")
    button.focus()
    page.keyboard.press("Enter")
    chat.page.locator("figure.cp-diag").wait_for(state="visible")
    assert page.evaluate("() => document.activeElement.id") == "cp-input"  # focus not lost
    assert fake_rasa.messages()[-1] == "/start_diagnostic"


def test_page_open_buttons_open_the_chat(chat, fake_rasa):
    chat.page.get_by_role("button", name="Faire le point avec Marc").click()
    chat.panel.wait_for(state="visible")
    chat.wait_bot_count(1)


def _axe(chat, axe_source):
    """Serious or critical axe-core violations on the page as it is now."""
    chat.page.add_script_tag(content=axe_source)
    result = chat.page.evaluate(
        """async () => {
            const r = await axe.run(document);
            return {version: r.testEngine.version, passes: r.passes.length,
                    violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))};
        }"""
    )
    assert result["passes"] > 10, result  # axe really ran
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_no_serious_or_critical_violations(chat_factory, web_url, fake_rasa, axe_source, viewport):
    # axe is injected as an inline script: this context ignores the demo page's CSP
    chat = chat_factory(web_url, viewport=viewport, bypass_csp=True)
    closed = _axe(chat, axe_source)
    assert closed == [], closed
    chat.open_and_wait_greeting()
    chat.click_reply("Évaluer mon projet")
    chat.page.locator("figure.cp-diag").wait_for(state="visible")
    chat.send("Mon site ?")
    opened = _axe(chat, axe_source)
    assert opened == [], opened
    # the error state too
    fake_rasa.status = 503
    chat.send("Encore une question", wait=False)
    chat.error.wait_for(state="visible")
    failing = _axe(chat, axe_source)
    assert failing == [], failing


def test_desktop_layout_and_screenshots(chat, fake_rasa):
    page = chat.page
    chat.screenshot("web-desktop-page.png")
    chat.open_and_wait_greeting()
    box = chat.panel.bounding_box()
    assert 340 <= box["width"] <= 420 and box["height"] >= 500  # a floating panel
    assert box["x"] + box["width"] <= DESKTOP["width"] - 10
    assert chat.launcher.is_visible()
    chat.click_reply("Les clés d'un partenariat")
    chat.send("Votre site ?")
    chat.screenshot("web-desktop-chat.png")
    chat.page.get_by_role("button", name="Nouvelle conversation").click()
    chat.wait_bot_count(2)
    chat.click_reply("Évaluer mon projet")
    figure = page.locator("figure.cp-diag")
    figure.wait_for(state="visible")
    figure.locator("svg.cp-table").scroll_into_view_if_needed()
    chat.screenshot("web-desktop-diagnostic.png")
    figure.locator(".cp-extras").scroll_into_view_if_needed()
    chat.screenshot("web-desktop-diagnostic-checklist.png")


def test_phone_layout_and_screenshots(chat_factory, web_url, fake_rasa):
    chat = chat_factory(web_url, viewport=PHONE, is_mobile=True, has_touch=True)
    page = chat.page
    chat.screenshot("web-phone-page.png")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    chat.open_and_wait_greeting()
    box = chat.panel.bounding_box()
    assert box == {"x": 0, "y": 0, "width": PHONE["width"], "height": PHONE["height"]}  # full screen
    assert chat.launcher.is_hidden()
    close = page.get_by_role("button", name="Fermer la discussion")
    assert close.is_visible()
    chat.send("Votre site ?")
    chat.screenshot("web-phone-chat.png")
    page.get_by_role("button", name="Nouvelle conversation").click()
    chat.wait_bot_count(2)
    chat.click_reply("Évaluer mon projet")
    page.locator("figure.cp-diag").wait_for(state="visible")
    assert page.evaluate("() => document.querySelector('.cp-body').scrollWidth") <= PHONE["width"]
    chat.screenshot("web-phone-diagnostic.png")
    close.click()
    assert chat.panel.is_hidden() and chat.launcher.is_visible()


def test_one_script_tag_with_data_attributes(chat_factory, web_url, fake_rasa, tmp_path):
    """Another site embeds the widget with one tag (cross-origin); data-* attributes configure it."""
    (tmp_path / "index.html").write_text(
        f"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Intégration</title></head>
        <body><main><h1>Un autre site</h1></main>
        <script src="{web_url}widget.js" data-rasa-url="{fake_rasa.url}/" data-title="Coach test"
                data-launcher-label="Une question ?" data-primary-color="#8a1538"
                data-position="left"></script></body></html>""",
        encoding="utf-8",
    )
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        site = f"http://127.0.0.1:{server.server_address[1]}"
        fake_rasa.allowed_origins.add(site)
        chat = chat_factory(site + "/")
        assert chat.launcher.inner_text().strip() == "Une question ?"
        assert chat.page.evaluate("() => window.CoachPartenariat.config.rasaUrl") == fake_rasa.url
        color = chat.page.evaluate("() => getComputedStyle(document.querySelector('.cp-launcher')).backgroundColor")
        assert color == "rgb(138, 21, 56)"  # and widget.css was found next to widget.js
        assert chat.launcher.bounding_box()["x"] < 100  # on the left
        chat.open_and_wait_greeting()
        assert chat.page.locator("#cp-title").inner_text() == "Coach test"
        assert chat.bot_texts()[0] == GREETING
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_a_refused_consent_clears_the_local_copy_of_the_conversation(chat, fake_rasa):
    from tests.web.conftest import FORGOTTEN_REPLY

    chat.open_and_wait_greeting()
    chat.send("Je m'appelle Jeanne Martin, jeanne@example.org")
    assert "jeanne@example.org" in json.dumps(chat.stored_state())
    chat.send("Non, je refuse", wait=False)
    chat.page.wait_for_function(
        "t => [...document.querySelectorAll('.cp-msg--bot')].some(b => b.textContent.includes(t))",
        arg=FORGOTTEN_REPLY, timeout=10_000,
    )
    chat.wait_idle()
    assert chat.user_texts() == [] and chat.bot_texts() == [FORGOTTEN_REPLY]
    stored = json.dumps(chat.stored_state(), ensure_ascii=False)
    assert "jeanne@example.org" not in stored and "Jeanne" not in stored and FORGOTTEN_REPLY in stored
    chat.page.reload()  # nothing comes back either
    chat.panel.wait_for(state="visible")
    assert chat.user_texts() == [] and chat.bot_texts() == [FORGOTTEN_REPLY]
