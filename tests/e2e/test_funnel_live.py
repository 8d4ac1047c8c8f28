"""The funnel on real conversations: the bot's actions set the milestones, Rasa's SQL event
broker publishes minimised events, and the back office counts exactly what
`rasa evaluate markers` counts on the tracker store."""
from __future__ import annotations

import csv
import sqlite3
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from bot.backoffice import funnel
from bot.knowledge import load_knowledge
from bot.leads.transcript import ROLLOVER_KEY
from channels import markers
from tests.conftest import ROOT, VENV_BIN
from tests.e2e.helpers import new_sender

pytestmark = pytest.mark.e2e
K = load_knowledge()
MARKERS = str(ROOT / "markers")


def visitors(stack) -> dict:  # noqa: ANN001
    only_opened, coached, diagnosed, asked = (new_sender("funnel") for _ in range(4))
    stack.chat(only_opened, "/greet")
    stack.chat(coached, "salut")
    stack.chat(coached, "/start_coaching")
    for _ in range(len(K.steps)):
        stack.chat(coached, "/continue")
    stack.chat(diagnosed, "je veux évaluer mon partenariat")
    for text in ["Un partenaire"] + ["Oui"] * 7 + ["Non", "Non", "Oui", "Oui"]:
        stack.chat(diagnosed, text)
    stack.chat(diagnosed, "oui volontiers")
    for text in ["Arnaud Martin", "Duo Conseil", "arnaud@duo-conseil.fr", "06 34 22 31 71", "le mardi matin",
                 "Choisir le partenaire", "Oui, j'accepte"]:
        stack.chat(diagnosed, text)
    stack.chat(asked, "/greet")
    stack.chat(asked, "c'est quoi les quatre piliers ?")
    return {"only_opened": only_opened, "coached": coached, "diagnosed": diagnosed, "asked": asked}


def rollovers(stack, senders) -> dict:  # noqa: ANN001
    """Sessions the tracker store opened to keep a long conversation cheap (TRACKER_ROLLOVER_EVENTS)."""
    rows = sqlite3.connect(stack.workdir / "tracker.sqlite3").execute(
        "SELECT sender_id, data FROM events WHERE type_name = 'session_started'").fetchall()
    found = defaultdict(int)
    for sender, data in rows:
        if sender in senders and ROLLOVER_KEY in data:
            found[sender] += 1
    return dict(found)


def rasa_markers(stack, senders, out: Path) -> dict:  # noqa: ANN001
    out.mkdir()
    endpoints = out / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n  type: channels.tracker_store.LeanSQLTrackerStore\n  dialect: sqlite\n"
        f"  db: \"{stack.workdir / 'tracker.sqlite3'}\"\n", encoding="utf-8")
    subprocess.run([str(VENV_BIN / "rasa"), "evaluate", "markers", "all", str(out / "markers.csv"),
                    "--config", MARKERS, "--endpoints", str(endpoints), "--domain", str(ROOT / "domain.yml"),
                    "--no-stats"], cwd=ROOT, check=True, capture_output=True, timeout=600)
    applied = defaultdict(set)
    with open(out / "markers.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["sender_id"] in senders:
                applied[row["marker"]].add((row["sender_id"], row["session_idx"]))
    return {marker: len(sessions) for marker, sessions in applied.items()}


def test_the_funnel_of_real_conversations_equals_rasa_evaluate_markers(live_stack, tmp_path):
    who = visitors(live_stack)
    senders = set(who.values())
    every = funnel.read_events(f"sqlite:///{live_stack.workdir / 'events.sqlite3'}")
    ours = funnel.build_funnel({s: e for s, e in every.items() if s in senders},
                               lambda s, e: markers.evaluate(MARKERS, s, e))
    assert ours.sessions == 4
    assert ours.totals == {
        "opened_chat": 4, "wrote": 3, "started_coaching": 1, "finished_coaching": 1,
        "started_diagnostic": 1, "got_verdict": 1, "opened_contact_form": 1, "consented": 1, "booked": 0,
    }
    # Rasa counts the sessions of the tracker store, where a long conversation was rolled over
    # into a new session (the coached and the diagnosed visitors here): the conversations
    # that were not give exactly the same figures; the others, one more session per rollover.
    rolled = rollovers(live_stack, senders)
    short = senders - set(rolled)
    assert short and rolled
    short_ours = funnel.build_funnel({s: e for s, e in every.items() if s in short},
                                     lambda s, e: markers.evaluate(MARKERS, s, e))
    theirs_short = rasa_markers(live_stack, short, tmp_path / "short")
    for key, _label in funnel.STAGES:
        assert short_ours.totals[key] == theirs_short.get(key, 0), key
    theirs = rasa_markers(live_stack, senders, tmp_path / "all")
    assert theirs["opened_chat"] == ours.totals["opened_chat"] + sum(rolled.values())
    for key, _label in funnel.STAGES:
        assert theirs.get(key, 0) >= ours.totals[key], key
    # The broker's events hold none of the visitor's words.
    rows = sqlite3.connect(live_stack.workdir / "events.sqlite3").execute(
        "SELECT data FROM events WHERE sender_id = ?", (who["diagnosed"],)).fetchall()
    assert rows and not any("Arnaud" in data or "duo-conseil" in data for (data,) in rows)
