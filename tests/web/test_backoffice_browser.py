"""The back office in Debian's chromium (Playwright): login, inbox and filters, a lead's page,
status change, erase, the unanswered questions written as a data file, the funnel; axe-core
finds no serious or critical violation on any page."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from backoffice_fixtures import PASSWORD, add_account, diagnostic, submission
from bot.backoffice.funnel import broker_events, broker_metadata
from bot.leads.db import make_engine
from channels.event_broker import minimised

pytestmark = pytest.mark.e2e


def axe_violations(page, axe_source):  # noqa: ANN001
    # Through the DevTools protocol, not a <script>: the page's CSP stays on and is tested too.
    page.evaluate(axe_source)
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document);
            return {passes: r.passes.length,
                    violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))};
        }"""
    )
    assert result["passes"] > 10, result  # axe really ran
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture
def site(start_backoffice, leads, conversations, tmp_path):
    conversations.turn("conv-jeanne", "bonjour Marc", "greet", "action_greet", "Bonjour ! Je suis Marc.")
    conversations.turn("conv-jeanne", "le tarif pour guider une scierie de vingt personnes ?", "ask_business",
                       "action_clarify", "Vous pouvez préciser ?")
    conversations.turn("conv-x", "tarif pour guider notre scierie", "ask_business", "action_clarify", "Pardon ?")
    leads.submit(submission())
    leads.submit(submission(sender_id="conv-paul", name="Paul Durand", company="Durand Logistique",
                            email="paul@durand-logistique.fr", phone="06 98 76 54 32", need=None,
                            diagnostic=diagnostic(relationship="client", verdict="client", score=10)))
    events_url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    engine = make_engine(events_url)
    broker_metadata.create_all(engine)
    stream = [("action", {"name": "action_session_start"}), ("user", {"parse_data": {"intent": {"name": "greet"}}}),
              ("user", {"parse_data": {"intent": {"name": "start_coaching"}}}), ("action", {"name": "action_start_coaching"}),
              ("slot", {"name": "coaching_step", "value": 0.0}), ("user", {"parse_data": {"intent": {"name": "ask_pillars"}}}),
              ("action", {"name": "action_start_diagnostic"}), ("action", {"name": "action_ask_diag_relationship"})]
    import time

    now = time.time() - 600
    with engine.begin() as connection:
        for n, (kind, fields) in enumerate(stream):
            event = minimised({"sender_id": "conv-jeanne", "event": kind, "timestamp": now + n, **fields})
            connection.execute(broker_events.insert().values(sender_id="conv-jeanne", data=json.dumps(event)))
    engine.dispose()
    add_account(leads)
    return start_backoffice(events_db_url=events_url)


@pytest.fixture
def page(browser, site):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused = []  # the Content-Security-Policy must never block one of our own pages' pieces
    page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
    yield page
    context.close()
    assert refused == []


def login(page, site):  # noqa: ANN001
    page.goto(site.url + "/leads")
    page.get_by_label("Identifiant").fill("claire")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Leads").wait_for()


def test_login_inbox_filters_and_accessibility(page, site, axe_source):
    page.goto(site.url + "/leads")
    assert "/login" in page.url
    assert axe_violations(page, axe_source) == []
    page.get_by_label("Identifiant").fill("claire")
    page.get_by_label("Mot de passe").fill("pas le bon")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("alert").filter(has_text="Identifiant ou mot de passe incorrect.").wait_for()
    login(page, site)
    rows = page.locator("table.inbox tbody tr")
    assert rows.count() == 2
    assert page.get_by_role("link", name="06 98 76 54 32").get_attribute("href") == "tel:+33698765432"
    assert axe_violations(page, axe_source) == []
    page.get_by_label("Recherche").fill("durand")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url("**q=durand**")
    assert rows.count() == 1 and "Paul Durand" in rows.first.inner_text()
    page.get_by_label("Statut").select_option("won")
    page.get_by_role("button", name="Filtrer").click()
    page.get_by_text("Aucun lead ne correspond à ces filtres.").wait_for()


def test_lead_page_status_change_and_erase(page, site, axe_source, leads):
    login(page, site)
    page.get_by_role("link", name="Jeanne Martin").click()
    page.get_by_role("heading", name="Diagnostic").wait_for()
    assert page.get_by_role("img", name="La table des quatre piliers").count() == 1
    assert "lui est moins motivé que moi" in page.inner_text("main")
    page.get_by_text("Afficher les").click()
    assert page.get_by_text("le tarif pour guider une scierie").is_visible()
    assert axe_violations(page, axe_source) == []
    page.get_by_label("Nouveau statut").select_option("won")
    page.get_by_label("Note (facultative)").fill("Contrat signé")
    page.get_by_role("button", name="Changer le statut").click()
    page.get_by_role("status").filter(has_text="Statut enregistré.").wait_for()
    assert "Contrat signé" in page.inner_text("main") and "claire" in page.inner_text("main")
    page.get_by_role("link", name="Effacer ce lead et ses conversations…").click()
    assert axe_violations(page, axe_source) == []
    page.get_by_role("button", name="Oui, tout effacer").click()
    page.get_by_role("status").filter(has_text="ont été effacés").wait_for()
    assert [l["name"] for l in leads.list_leads()] == ["Paul Durand"]


def test_unanswered_questions_become_a_data_file(page, site, axe_source):
    login(page, site)
    page.get_by_role("link", name="Questions sans réponse").click()
    page.get_by_text("2×").wait_for()
    assert axe_violations(page, axe_source) == []
    group = page.locator(".groups > li").first
    group.get_by_label("Sujet").select_option("ask_business")
    group.get_by_role("button", name="Attribuer").click()
    page.get_by_role("status").filter(has_text="Groupe attribué").wait_for()
    page.get_by_role("button", name="Écrire dans les données d’entraînement").click()
    page.get_by_role("status").filter(has_text="2 formulations écrites").wait_for()
    written = Path(site.settings.reviewed_nlu_path).read_text(encoding="utf-8")
    assert "- intent: ask_business" in written and "tarif pour guider notre scierie" in written


def test_the_funnel_page(page, site, axe_source):
    login(page, site)
    page.get_by_role("link", name="Parcours des visiteurs").click()
    page.get_by_role("heading", name="Sur la période : 1 session").wait_for()
    text = page.inner_text("main")
    assert "Ont commencé la séance guidée" in text and "Les quatre piliers" in text
    assert axe_violations(page, axe_source) == []
