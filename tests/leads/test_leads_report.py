"""What the consultant reads of a lead (issue 15, « Fixes the consultant needs »): the table's
legs counted from the answers, Paris times, erased passages folded, the advice the visitor saw."""
import datetime as dt

import pytest
import sqlalchemy as sa

from bot.diagnostic import ANSWER_KEYS, evaluate
from bot.leads.db import session_factory, session_scope
from bot.leads.models import Lead
from bot.leads.notifier import render_email_bodies
from bot.leads.report import diagnostic_view, local_text, transcript_view
from bot.leads.transcript import REDACTED, TranscriptLine
from bot.typography import french_spacing

PILLAR_KEYS = ("shared_desire", "common_project", "balance", "contract")
UTC = dt.timezone.utc


def pillars_snapshot(diag, missing):
    answers = {key: ("no" if key in missing else "yes") for key in PILLAR_KEYS}
    return diag(answers={**diag()["answers"], **answers}, missing_pillars=list(missing))


def text_body(service, lead_id):
    text, html = render_email_bodies(service.report(lead_id))
    return text, html


# ------------------------------------------------------------ the four legs of the table
@pytest.mark.parametrize("missing, sentence, count", [
    ((), "Les quatre pieds sont là : la table tient debout.", "(4/4)"),
    (("contract",), "Il manque un pied (Contrat) : la table est instable.", "(3/4)"),
    (("balance", "contract"), "Il manque deux pieds (Équilibre, Contrat) : la table ne tient pas debout.", "(2/4)"),
    (("common_project", "balance", "contract"),
     "Il manque trois pieds (Projet, Équilibre, Contrat) : la table ne tient pas debout.", "(1/4)"),
    (PILLAR_KEYS, "Aucun des quatre pieds n’est en place : il n’y a pas encore de table.", "(0/4)"),
])
def test_the_table_sentence_counts_the_missing_legs(service, diag, sub, missing, sentence, count):
    lead_id = service.submit(sub(diagnostic=pillars_snapshot(diag, missing)))
    view = diagnostic_view(pillars_snapshot(diag, missing))
    assert view["pillars_missing"] == len(missing)
    assert view["table_text"] == french_spacing(sentence)
    for body in text_body(service, lead_id):
        assert french_spacing(sentence) in body
        assert f"Les quatre piliers {count}" in body
        if len(missing) != 1:
            assert "Il manque un pied" not in body


def test_three_missing_pillars_from_a_real_verdict(service, sub):
    # Only the shared desire is there: the engine's own snapshot, as the action stores it.
    answers = {key: "yes" for key in ANSWER_KEYS}
    answers.update(common_project="no", balance="partly", contract="unknown")
    snapshot = evaluate("partnership", answers).to_dict()
    lead_id = service.submit(sub(diagnostic=snapshot))
    text, _ = text_body(service, lead_id)
    assert "Les quatre piliers (1/4)" in text
    assert french_spacing("Il manque trois pieds (Projet, Équilibre, Contrat)") in text


# ------------------------------------------------------------ Paris time
def test_times_read_by_a_consultant_are_paris_time_summer_and_winter():
    winter = dt.datetime(2026, 12, 4, 9, 15, tzinfo=UTC)
    summer = dt.datetime(2026, 7, 4, 8, 15, tzinfo=UTC)
    assert local_text(winter) == "04/12/2026 10:15 (heure de Paris)"
    assert local_text(summer) == "04/07/2026 10:15 (heure de Paris)"
    assert local_text(winter.replace(tzinfo=None)) == "04/12/2026 10:15 (heure de Paris)"  # stored naive UTC
    assert local_text(winter, with_zone=False) == "04/12/2026 10:15"
    assert local_text(None) == ""


def set_created(engine, lead_id, when):
    with session_scope(session_factory(engine)) as session:
        session.execute(sa.update(Lead).where(Lead.id == lead_id).values(created_at=when))


def test_the_report_and_email_say_paris_time_the_export_stays_utc(service, engine, tracker, sub):
    tracker.conversation("conv-1", [("Bonjour Marc", "Bonjour !")])  # 2023-11-14 22:13 UTC
    lead_id = service.submit(sub())
    service.mark(lead_id, "contacted", "Rappel mardi")
    service.merge(service.submit(sub(sender_id="conv-9", phone=None, diagnostic=None)), lead_id, "test")  # audited
    set_created(engine, lead_id, dt.datetime(2026, 12, 4, 9, 15, tzinfo=UTC))
    report = service.report(lead_id)
    assert report["created_text"] == "04/12/2026 10:15 (heure de Paris)"
    assert report["consent_text"].endswith("(heure de Paris)")
    assert report["notes"][0]["created"].endswith("(heure de Paris)")
    assert report["audit"] and all(a["at"].endswith("(heure de Paris)") for a in report["audit"])
    assert [m["time"] for m in report["transcript"][:2]] == ["23:13", "23:13"]  # not 22:13 (UTC)
    assert report["transcript"][0]["date"] == "14/11/2023 23:13 (heure de Paris)"
    assert report["lead"]["created_at"] == "2026-12-04T09:15:00+00:00"  # the export: ISO 8601 UTC
    text, html = render_email_bodies(report)
    for body in (text, html):
        assert "UTC" not in body
        assert "04/12/2026 10:15 (heure de Paris)" in body
        assert "23:13" in body and "22:13" not in body
    assert "CONVERSATION (2 conversations, heure de Paris)" in text


# ------------------------------------------------------------ erased passages folded
def line(text, second, speaker="visitor", sender="conv-1"):
    return TranscriptLine(sender, dt.datetime(2026, 12, 4, 9, 0, second, tzinfo=UTC), speaker, text)


def test_consecutive_erased_lines_fold_into_one():
    lines = [line("Je voudrais être rappelé", 0), line("Volontiers !", 1, "bot")]
    lines += [line(REDACTED, 2 + i, "visitor" if i % 2 else "bot") for i in range(30)]
    lines += [line("Finalement, c'est quoi un partenariat ?", 40), line(REDACTED, 41), line("Bonne question !", 42, "bot")]
    view = transcript_view(lines)
    assert [m["text"] for m in view] == [
        "Je voudrais être rappelé", "Volontiers !", french_spacing("[effacé : 30 messages]"),
        "Finalement, c'est quoi un partenariat ?", french_spacing("[effacé : 1 message]"), "Bonne question !",
    ]
    folded = view[2]
    assert folded["erased"] == 30 and folded["speaker"] == "erased" and folded["time"] == "10:00"
    assert [m["erased"] for m in view] == [0, 0, 30, 0, 1, 0]


def test_erased_passages_of_two_conversations_are_not_merged():
    view = transcript_view([line(REDACTED, 0, sender="a"), line(REDACTED, 1, sender="a"), line(REDACTED, 2, sender="b")])
    assert [(m["sender_id"], m["erased"]) for m in view] == [("a", 2), ("b", 1)]


def test_an_abandoned_form_is_one_line_in_the_email_and_leads_show(service, tracker, sub):
    tracker.conversation("conv-1", [("Parlons partenariat", "Avec plaisir !")])
    tracker.conversation("conv-1", [(REDACTED, REDACTED)] * 15)  # an abandoned contact form, redacted
    tracker.conversation("conv-1", [("Je reviens", "Ravi !")])
    lead_id = service.submit(sub())
    report = service.report(lead_id)
    assert [m["text"] for m in report["transcript"]] == [
        "Parlons partenariat", "Avec plaisir !", french_spacing("[effacé : 30 messages]"), "Je reviens", "Ravi !"]
    text, html = render_email_bodies(report)
    for body in (text, html):
        assert REDACTED not in body and body.count("[effacé") == 1
        assert french_spacing("[effacé : 30 messages]") in body
    assert "Visiteur : [effacé" not in text and "Marc : [effacé" not in text


# ------------------------------------------------------------ the advice the visitor saw
def test_the_report_lists_only_the_advice_the_visitor_was_shown(service, sub):
    result = evaluate("partnership", {key: "no" for key in ANSWER_KEYS})  # eleven pieces of advice
    lead_id = service.submit(sub(diagnostic=result.to_dict()))
    report = service.report(lead_id)
    assert report["diagnostic"]["advice"] == result.advice[:3]
    assert report["diagnostic"]["more_advice"] == result.advice[3:]
    for body in render_email_bodies(report):
        assert "Conseils montrés au visiteur" in body
        for shown in result.advice[:3]:
            assert french_spacing(shown) in body
        for hidden in result.advice[3:]:
            assert french_spacing(hidden) not in body


def test_a_snapshot_taken_before_advice_shown_was_recorded_reads_the_first_three(diag):
    advice = [f"Conseil {n}." for n in range(1, 9)]
    view = diagnostic_view(diag(advice=advice))
    assert view["advice"] == advice[:3] and view["more_advice"] == advice[3:]
    assert diagnostic_view(diag(advice=advice[:2]))["advice"] == advice[:2]
    assert diagnostic_view(diag(advice=advice, advice_shown=advice[:1]))["advice"] == advice[:1]
