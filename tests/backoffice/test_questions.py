"""Missed messages: found in the tracker store, grouped, personal data never exportable;
assigned in one click; `sip-coach nlu review` / the button writes a valid NLU data file."""
from __future__ import annotations

from pathlib import Path

import yaml

from bot.backoffice import nlu_review, unanswered
from bot.leads.db import session_scope
from bot.leads.transcript import REDACTED

from backoffice_fixtures import add_account

ROOT = Path(__file__).resolve().parents[2]

MISSED = [
    ("c1", "quel tarif pour accompagner une menuiserie de douze salariés ?", "ask_business"),
    ("c2", "tarif pour accompagner notre menuiserie", "ask_business"),
    ("c3", "le tarif pour accompagner une menuiserie, svp", "ask_business"),
    ("c4", "vous livrez des pizzas à Quimper ?", "out_of_scope"),
]


def fill(conversations) -> None:  # noqa: ANN001
    for sender, text, intent in MISSED[:3]:
        conversations.turn(sender, text, intent, "action_clarify", "Vous pouvez préciser ?")
    conversations.turn("c4", "vous livrez des pizzas à Quimper ?", "out_of_scope", "action_small_talk", "Ce n’est pas mon rayon.")
    conversations.turn("c5", "je m'appelle Paul Durand, rappelez-moi au 06 98 76 54 32", "nlu_fallback", "action_clarify", "Pardon ?")
    # Not missed: a good answer, a button, an erased passage.
    conversations.turn("c6", "c'est quoi les quatre piliers", "ask_pillars", "action_answer_question", "La même envie…")
    conversations.turn("c6", "/start_diagnostic", "start_diagnostic", "action_clarify", "…")
    conversations.turn("c7", REDACTED, "nlu_fallback", "action_clarify", "…")


def test_missed_messages_are_found_and_grouped_by_similarity(conversations):
    fill(conversations)
    messages = unanswered.missed_messages(conversations.url)
    assert [m.text for m in messages] == [t for _, t, _ in MISSED] + ["je m'appelle Paul Durand, rappelez-moi au 06 98 76 54 32"]
    groups = unanswered.group_messages(messages)
    assert [g.count for g in groups] == [3, 1, 1]
    assert {m.sender_id for m in groups[0].messages} == {"c1", "c2", "c3"}
    personal = next(g for g in groups if g.messages[0].sender_id == "c5")
    assert personal.messages[0].personal and personal.exportable == []


def test_a_missing_tracker_store_means_no_missed_message(tmp_path):
    assert unanswered.missed_messages(f"sqlite:///{tmp_path / 'absent.sqlite3'}") == []


def test_assign_then_review_writes_a_rasa_nlu_file(leads, tmp_path):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    path = tmp_path / "nlu" / "reviewed.yml"
    with session_scope(leads.factory) as session:
        assert nlu_review.assign(session, [t for _, t, _ in MISSED[:3]], "ask_business", "claire") == 3
        assert nlu_review.assign(session, ["vous livrez des pizzas à Quimper ?"], "out_of_scope", "claire") == 1
        # A training example, a held-out test message and one with a phone number are left out.
        trained = next(iter(nlu_review._examples_of(ROOT / "data" / "nlu" / "topics_how.yml")))
        held_out = next(iter(nlu_review._examples_of(ROOT / "tests" / "nlu" / "holdout.yml")))
        nlu_review.assign(session, [trained, held_out], "ask_pillars", "claire")
        assert nlu_review.assign(session, ["rappelez-moi au 06 98 76 54 32"], "request_contact", "claire") == 0
        report = nlu_review.write_reviewed_file(session, path)
    assert report.count == 4
    data = RasaYAMLReader().read(str(path))  # Rasa's own reader: a valid NLU file
    by_intent = {}
    for example in data.intent_examples:
        by_intent.setdefault(example.get("intent"), []).append(example.get("text"))
    assert sorted(by_intent["ask_business"]) == sorted(t for _, t, _ in MISSED[:3])
    assert by_intent["out_of_scope"] == ["vous livrez des pizzas à Quimper ?"]
    assert dict(report.skipped) == {trained: "déjà dans les données d’entraînement",
                                    held_out: "message d’un jeu de test"}


def test_an_unknown_topic_is_refused(leads):
    import pytest

    with session_scope(leads.factory) as session, pytest.raises(nlu_review.ReviewError):
        nlu_review.assign(session, ["bonjour"], "drop_table", "claire")


def test_the_page_groups_assigns_and_writes_the_file(backoffice, leads, conversations):
    fill(conversations)
    add_account(leads)
    client = backoffice.session()
    client.login()
    page = client.get("/questions")
    text = page.text()
    assert "3×" in text and "vous livrez des pizzas à Quimper ?" in text
    assert "non exportable" in text
    key = unanswered.group_key(MISSED[0][1])
    assert client.post("/questions/assign", {"group": key, "intent": "ask_business"}).status == 303
    after = client.get("/questions?done=assigned").text()
    assert "3×" not in after  # assigned: out of the list
    assert client.post("/questions/assign", {"group": key, "intent": "ask_business"}).status == 409
    client.get("/questions")
    done = client.post("/questions/export")
    assert done.status == 303 and "written=3" in done.location
    written = yaml.safe_load(Path(backoffice.settings.reviewed_nlu_path).read_text(encoding="utf-8"))
    assert written["nlu"][0]["intent"] == "ask_business"
    conversation = client.get("/conversations/c1")
    assert conversation.status == 200 and "menuiserie de douze salariés" in conversation.text()
    assert client.get("/conversations/personne").status == 404


def test_the_cli_review_writes_the_same_file(leads, tmp_path, monkeypatch):
    import io

    from bot.cli import main

    monkeypatch.setenv("LEADS_DB_URL", str(leads.engine.url.render_as_string(hide_password=False)))
    with session_scope(leads.factory) as session:
        nlu_review.assign(session, ["vous livrez des pizzas à Quimper ?"], "out_of_scope", "claire")
    target = tmp_path / "reviewed.yml"
    out = io.StringIO()
    import sys

    monkeypatch.setattr(sys, "stdout", out)
    assert main(["nlu", "review", "--output", str(target)]) == 0
    assert "1 formulation(s)" in out.getvalue()
    assert "vous livrez des pizzas à Quimper ?" in target.read_text(encoding="utf-8")


def test_personal_data_is_recognised_beyond_the_contact_fields():
    personal = ["c'est Paul, rappelez-moi", "moi c est Jean-Pierre", "Marie Curie ici, une question",
                "on est au 12 rue de la Paix", "notre SIRET 552 100 554 00019", "voir www.acme-conseil.fr",
                "jean at acme point fr", "écrivez à paul@durand.fr"]
    anonymous = ["c'est quoi les quatre piliers ?", "moi je pense que c'est cher", "Bonjour Marc, une question",
                 "quel tarif pour 3 mois d'accompagnement ?"]
    assert [t for t in personal if not unanswered.has_personal_data(t)] == []
    assert [t for t in anonymous if unanswered.has_personal_data(t)] == []


def test_odd_texts_never_break_the_data_file(leads, tmp_path):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    odd = ['un tarif "tout compris" : combien ?', "ça coûte # combien ?", "- tarif ?", "tarif\x01 bizarre\x7f ?",
           "quel tarif pour ' une PME ?", "tarif ? " + "très " * 300, "le prix {sans} détour", "voir [ici](pilier)"]
    path = tmp_path / "reviewed.yml"
    with session_scope(leads.factory) as session:
        nlu_review.assign(session, odd, "ask_business", "claire")
        report = nlu_review.write_reviewed_file(session, path)
    texts = [e.get("text") for e in RasaYAMLReader().read(str(path)).intent_examples]
    assert len(texts) == report.count == 6
    assert {t for t, _ in report.skipped} == {"le prix {sans} détour", "voir [ici](pilier)"}
    assert 'un tarif "tout compris" : combien ?' in texts and "- tarif ?" in texts
    assert "tarif bizarre ?" in texts  # control characters removed
    assert not any(e.get("entities") for e in RasaYAMLReader().read(str(path)).intent_examples)


def test_a_conversation_id_with_a_slash_has_its_page(backoffice, leads, conversations):
    conversations.turn("widget/abc", "vous livrez des pizzas à Quimper ?", "out_of_scope", "action_small_talk", "Non.")
    add_account(leads)
    client = backoffice.session()
    client.login()
    page = client.get("/questions")
    assert "/conversations/widget%2Fabc" in page.body
    assert "pizzas" in client.get("/conversations/widget%2Fabc").text()
