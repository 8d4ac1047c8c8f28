"""The inbox (filters, search, CSV), a lead's page (the visitor's words, the advice shown, the
table drawn, the folded transcript) and what a consultant does to a lead, audited."""
from __future__ import annotations

import csv
import datetime as dt
import io

import sqlalchemy as sa

from bot.backoffice.queries import InboxFilters
from bot.leads.db import session_scope
from bot.leads.models import Lead
from bot.leads.transcript import REDACTED

from backoffice_fixtures import add_account, diagnostic, submission


def logged_in(backoffice, leads):  # noqa: ANN001
    add_account(leads)
    client = backoffice.session()
    assert client.login().status == 303
    return client


def three_leads(leads):  # noqa: ANN001
    leads.submit(submission())
    leads.submit(submission(sender_id="conv-paul", name="Paul Durand", company="Durand Logistique",
                            email="paul@durand-logistique.fr", phone="06 98 76 54 32", need=None,
                            diagnostic=diagnostic(relationship="client", verdict="client", score=10)))
    leads.submit(submission(sender_id="conv-ines", name="Inès Roy", company="=HYPERLINK(\"x\")", email=None,
                            phone="07 81 22 33 44", need=None, diagnostic=None))
    with session_scope(leads.factory) as session:  # Inès wrote 40 days ago
        ines = session.execute(sa.select(Lead).where(Lead.name == "Inès Roy")).scalar_one()
        ines.created_at = ines.created_at - dt.timedelta(days=40)


def test_the_inbox_lists_leads_with_phone_and_email_to_click(backoffice, leads):
    three_leads(leads)
    client = logged_in(backoffice, leads)
    page = client.get("/leads")
    assert page.status == 200
    assert 'href="tel:+33698765432"' in page.body and "06 98 76 54 32" in page.text()
    assert 'href="mailto:paul@durand-logistique.fr"' in page.body
    assert page.text().index("Paul Durand") < page.text().index("Inès Roy")  # newest first
    assert "3 leads" in page.text()


def test_inbox_filters_and_search(backoffice, leads):
    three_leads(leads)
    client = logged_in(backoffice, leads)
    def names(query: str) -> list:  # noqa: ANN001
        text = client.get("/leads" + query).text()
        return [n for n in ("Jeanne Martin", "Paul Durand", "Inès Roy") if n in text]

    hot = [l["name"] for l in leads.list_leads() if l["qualification"] == "hot"]
    assert names("?qualification=hot") == [n for n in ("Jeanne Martin", "Paul Durand", "Inès Roy") if n in hot]
    assert names("?period=30") == ["Jeanne Martin", "Paul Durand"]
    assert names("?q=durand") == ["Paul Durand"]
    assert names("?q=06+98+76") == ["Paul Durand"]
    assert names("?booked=yes") == []
    leads.mark(1, "contacted")
    assert names("?status=contacted") == ["Jeanne Martin"]
    assert names("?status=n%27importe+quoi") == ["Jeanne Martin", "Paul Durand", "Inès Roy"]  # ignored, not an error
    assert names("?q=%25") == []  # a LIKE wildcard is searched for literally


def test_the_csv_export_is_the_cli_export_with_the_filters(backoffice, leads):
    from bot.cli import export_csv

    three_leads(leads)
    client = logged_in(backoffice, leads)
    page = client.get("/leads.csv?period=90")
    assert page.status == 200 and page.headers["content-type"].startswith("text/csv")
    body = page.body.lstrip("\ufeff")
    assert body == export_csv(leads.export())
    rows = list(csv.DictReader(io.StringIO(body)))
    ines = next(r for r in rows if r["name"] == "Inès Roy")
    assert ines["company"].startswith("'=")  # neutralised: a spreadsheet shows it as text
    assert len(list(csv.DictReader(io.StringIO(client.get("/leads.csv?period=30").body.lstrip("\ufeff"))))) == 2


def test_a_lead_page_shows_the_visitors_words_the_advice_shown_and_the_table(backoffice, leads, conversations):
    conversations.turn("conv-jeanne", "bonjour", "greet", "action_greet", "Bonjour ! Je suis Marc.")
    for _ in range(12):
        conversations.add("conv-jeanne", "user", text=REDACTED)
    conversations.turn("conv-jeanne", "on a tout sauf le contrat", "ask_pillars", "action_answer_question", "Une table sans pied…")
    leads.submit(submission())
    client = logged_in(backoffice, leads)
    page = client.get("/leads/1")
    text = page.text()
    assert page.status == 200
    assert "Jeanne Martin" in text and "06 34 22 31 71" in text
    assert "« lui est moins motivé que moi »" in text or "lui est moins motivé que moi" in text
    assert "Il manque trois pieds (Projet, Équilibre, Contrat) : la table ne tient pas debout." in text
    assert "Les quatre piliers (1/4)" in text
    assert "Conseils montrés au visiteur" in text and "Rééquilibrez la relation." in text
    assert "après 17h" in text  # the callback moment in the visitor's words
    assert text.count(REDACTED) <= 1  # the erased passage is folded into one line
    assert "on a tout sauf le contrat" in text
    assert "heure de Paris" in text


def test_status_note_and_contacted_are_saved_and_audited_with_the_account(backoffice, leads):
    leads.submit(submission())
    client = logged_in(backoffice, leads)
    client.get("/leads/1")
    assert client.post("/leads/1/contacted").status == 303
    client.get("/leads/1")
    assert client.post("/leads/1/note", {"note": "Rappelée, RDV à caler"}).status == 303
    client.get("/leads/1")
    assert client.post("/leads/1/status", {"status": "won", "note": "Signé"}).status == 303
    report = leads.report(1)
    assert report["lead"]["status"] == "won"
    assert [a["actor"] for a in report["audit"]] == ["claire"] * 3
    assert [a["action"] for a in report["audit"]] == ["status", "note", "status"]
    page = client.get("/leads/1?done=status").text()
    assert "Rappelée, RDV à caler" in page and "Signé" in page
    assert "claire : statut changé (contacted → won (avec une note))" in page
    assert client.post("/leads/1/note", {"note": "   "}).status == 400


def test_erase_asks_first_then_erases_the_lead_and_its_conversations(backoffice, leads, conversations):
    conversations.turn("conv-jeanne", "bonjour", "greet", "action_greet", "Bonjour !")
    leads.submit(submission())
    client = logged_in(backoffice, leads)
    confirm = client.get("/leads/1/erase")
    assert confirm.status == 200 and "Impossible de revenir en arrière" in confirm.text()
    assert client.post("/leads/1/erase", {}).status == 303  # no confirmation: nothing erased
    assert leads.list_leads()
    client.get("/leads/1/erase")
    done = client.post("/leads/1/erase", {"confirm": "oui"})
    assert done.status == 303 and "done=erased" in done.location
    assert leads.list_leads() == []
    assert conversations.engine.connect().execute(sa.text("select count(*) from events")).scalar() == 0
    assert client.get("/leads/1").status == 404


def test_inbox_filters_ignore_unknown_values():
    filters = InboxFilters.from_query({"qualification": "tiède", "period": "-1", "booked": "peut-être", "q": "  a  b "})
    assert filters == InboxFilters(search="a b")


def test_the_lead_email_links_to_the_back_office_when_its_address_is_known(leads, monkeypatch):
    from bot.leads.notifier import render_email_bodies
    from bot.leads.report import backoffice_link

    assert backoffice_link(7, {}) is None
    assert backoffice_link(7, {"BACKOFFICE_URL": "javascript:alert(1)"}) is None
    assert backoffice_link(7, {"BACKOFFICE_URL": "https://bot.exemple.fr/admin/"}) == "https://bot.exemple.fr/admin/leads/7"
    leads.submit(submission())
    monkeypatch.setenv("BACKOFFICE_URL", "http://localhost:8001")
    report = leads.report(1)
    report["event"] = "lead.created"
    text, html = render_email_bodies(report)
    assert "http://localhost:8001/leads/1" in text and 'href="http://localhost:8001/leads/1"' in html


def test_every_page_has_french_spacing(backoffice, leads, conversations):
    import html
    import re

    conversations.turn("conv-jeanne", "vous livrez des pizzas ?", "out_of_scope", "action_small_talk", "Non !")
    leads.submit(submission())
    client = logged_in(backoffice, leads)
    for path in ("/login", "/leads", "/leads/1", "/leads/1/erase", "/questions", "/funnel", "/conversations/conv-jeanne",
                 "/nulle-part"):
        words = html.unescape(re.sub(r"<[^>]+>", "", client.get(path).body))
        assert not re.search(r" [;:!?»]|« ", words), (path, re.findall(r".{20} [;:!?»]|« .{20}", words)[:3])
