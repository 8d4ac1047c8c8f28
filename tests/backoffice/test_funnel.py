"""The funnel: minimised broker events, the markers evaluated in-process, and the same figures
as `rasa evaluate markers` on the tracker store for a generated set of conversations."""
from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
from pathlib import Path


from bot.backoffice import funnel
from bot.leads.db import make_engine
from bot.leads.transcript import events_table, tracker_metadata
from channels import markers
from channels.event_broker import minimised

ROOT = Path(__file__).resolve().parents[2]
MARKERS = str(ROOT / "markers")
DIAG_KEYS = ["relationship", "autonomy", "pooled_efforts", "common_goal", "own_missions", "shared_stakes",
             "shared_desire", "common_project", "balance", "contract", "partner_choice", "piloting"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_764_000_000.0  # late November 2025

    def tick(self, seconds: float = 5) -> float:
        self.now += seconds
        return self.now


def user(clock, text, intent):  # noqa: ANN001
    return {"event": "user", "timestamp": clock.tick(), "text": text,
            "parse_data": {"intent": {"name": intent, "confidence": 0.93}, "entities": [], "text": text}}


def action(clock, name):  # noqa: ANN001
    return {"event": "action", "timestamp": clock.tick(1), "name": name}


def slot(clock, name, value):  # noqa: ANN001
    return {"event": "slot", "timestamp": clock.tick(1), "name": name, "value": value}


def bot(clock, text):  # noqa: ANN001
    return {"event": "bot", "timestamp": clock.tick(1), "text": text}


def session_start(clock):  # noqa: ANN001
    return [action(clock, "action_session_start"), {"event": "session_started", "timestamp": clock.tick(1)},
            action(clock, "action_listen")]


def visitor(rng: random.Random, clock: Clock) -> list:
    """One conversation: one or two sessions along a random path of the funnel."""
    events = []
    for _session in range(rng.choice([1, 1, 1, 2])):
        events += session_start(clock)
        events += [user(clock, "/greet", "greet"), action(clock, "action_greet"), bot(clock, "Bonjour !"),
                   action(clock, "action_listen")]
        if rng.random() < 0.2:
            continue  # opened, never wrote
        if rng.random() < 0.5:
            events += [user(clock, "/start_coaching", "start_coaching"), action(clock, "action_start_coaching"),
                       slot(clock, "coaching_step", 0.0), slot(clock, "coaching_status", "in_progress"),
                       action(clock, "action_listen")]
            steps = 12 if rng.random() < 0.4 else rng.randint(1, 11)
            for step in range(1, steps):
                events += [user(clock, "/continue", "continue"), action(clock, "action_continue"),
                           slot(clock, "coaching_step", float(step)), action(clock, "action_listen")]
            if steps == 12:
                events += [slot(clock, "coaching_status", "finished"), slot(clock, "funnel_coaching_finished", True)]
        else:
            events += [user(clock, "c'est quoi les piliers ?", "ask_pillars"), action(clock, "action_answer_question"),
                       action(clock, "action_listen")]
        if rng.random() < 0.6:
            events += [user(clock, "/start_diagnostic", "start_diagnostic"), action(clock, "action_start_diagnostic")]
            asked = len(DIAG_KEYS) if rng.random() < 0.6 else rng.randint(1, len(DIAG_KEYS) - 1)
            for key in DIAG_KEYS[:asked]:
                events += [action(clock, f"action_ask_diag_{key}"), action(clock, "action_listen"),
                           user(clock, "oui", "affirm"), slot(clock, f"diag_{key}", "yes")]
            if asked == len(DIAG_KEYS):
                events += [action(clock, "action_diagnostic_verdict"), slot(clock, "diag_result", "{}")]
                if rng.random() < 0.6:
                    events += [user(clock, "/request_contact", "request_contact"), action(clock, "action_start_contact"),
                               slot(clock, "contact_name", "Jeanne Martin")]
                    if rng.random() < 0.7:
                        events += [action(clock, "action_submit_lead"), slot(clock, "lead_id", 3.0),
                                   slot(clock, "funnel_consented", True)]
                        if rng.random() < 0.5:
                            events += [slot(clock, "funnel_booked", True)]
        events += [action(clock, "action_listen")]
        clock.tick(3 * 3600)  # the next session comes after session_expiration_time
    return events


def generated(count: int = 60, seed: int = 7) -> dict:
    rng, clock = random.Random(seed), Clock()
    return {f"visitor-{n:03d}": visitor(rng, clock) for n in range(count)}


def test_broker_events_are_minimised_no_words_no_personal_values():
    clock = Clock()
    for event in (user(clock, "je m'appelle Jeanne, jeanne@x.fr", "inform"), slot(clock, "contact_email", "jeanne@x.fr"),
                  bot(clock, "Merci Jeanne"), slot(clock, "coaching_step", 3.0)):
        published = minimised({"sender_id": "s", **event})
        text = json.dumps(published, ensure_ascii=False)
        assert "Jeanne" not in text and "jeanne@x.fr" not in text
    assert minimised({"event": "slot", "name": "coaching_step", "value": 3.0})["value"] == 3.0
    assert minimised({"event": "slot", "name": "contact_email", "value": "a@b.fr"})["value"] is True
    assert minimised({"event": "slot", "name": "contact_email", "value": None})["value"] is None
    assert minimised(user(clock, "x", "ask_pillars"))["parse_data"]["intent"]["name"] == "ask_pillars"


def evaluator(sender_id, events):  # noqa: ANN001
    return markers.evaluate(MARKERS, sender_id, events)


def test_the_funnel_counts_sessions_per_stage_step_and_question():
    clock = Clock()
    one = session_start(clock) + [user(clock, "/greet", "greet"), action(clock, "action_greet"),
                                  user(clock, "/start_coaching", "start_coaching"), action(clock, "action_start_coaching"),
                                  slot(clock, "coaching_step", 0.0), user(clock, "/continue", "continue"),
                                  slot(clock, "coaching_step", 1.0), user(clock, "les piliers ?", "ask_pillars")]
    two = session_start(clock) + [user(clock, "/greet", "greet"), action(clock, "action_greet")]
    result = funnel.build_funnel({"a": [minimised(e) for e in one], "b": two}, evaluator,
                                 step_titles=["Un", "Deux", "Trois"], question_labels={"relationship": "R"},
                                 topic_titles={"ask_pillars": "Les quatre piliers"})
    assert result.sessions == 2
    assert result.totals["opened_chat"] == 2 and result.totals["wrote"] == 1
    assert result.totals["started_coaching"] == 1 and result.totals["finished_coaching"] == 0
    assert result.steps == [(1, "Un", 1), (2, "Deux", 1), (3, "Trois", 0)]
    assert result.topics == [("ask_pillars", "Les quatre piliers", 1)]
    assert len(result.weeks) == 1 and result.weeks[0].counts["opened_chat"] == 2


def write_tracker_store(url: str, conversations: dict) -> None:
    engine = make_engine(url)
    tracker_metadata.create_all(engine)
    with engine.begin() as connection:
        for sender, events in conversations.items():
            for event in events:
                intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
                connection.execute(events_table.insert().values(
                    sender_id=sender, type_name=event["event"], timestamp=event["timestamp"],
                    intent_name=intent, action_name=event.get("name") if event["event"] == "action" else None,
                    data=json.dumps({"sender_id": sender, **event}),
                ))
    engine.dispose()


def rasa_evaluate_markers(tmp_path: Path, tracker_db: Path) -> dict:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        f"tracker_store:\n  type: channels.tracker_store.LeanSQLTrackerStore\n  dialect: sqlite\n  db: \"{tracker_db}\"\n",
        encoding="utf-8",
    )
    out = tmp_path / "markers-out"
    out.mkdir()
    subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "evaluate", "markers", "all", str(out / "markers.csv"),
         "--config", MARKERS, "--endpoints", str(endpoints), "--domain", str(ROOT / "domain.yml"),
         "--stats-file-prefix", str(out / "stats")],
        cwd=ROOT, check=True, capture_output=True, timeout=300,
    )
    figures = {}
    with open(out / "stats-overall.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["statistic"] == "number_of_sessions_where_marker_applied_at_least_once":
                figures[row["marker"]] = int(float(row["value"]))
            if row["statistic"] == "total_number_of_sessions":
                figures["__sessions__"] = int(float(row["value"]))
    return figures


def test_the_back_office_figures_equal_rasa_evaluate_markers(tmp_path):
    conversations = generated()
    tracker_db = tmp_path / "tracker.sqlite3"
    write_tracker_store(f"sqlite:///{tracker_db}", conversations)
    broker = {s: [minimised({"sender_id": s, **e}) for e in events] for s, events in conversations.items()}
    ours = funnel.build_funnel(broker, evaluator, question_labels={k: k for k in DIAG_KEYS})
    theirs = rasa_evaluate_markers(tmp_path, tracker_db)
    assert theirs["__sessions__"] == ours.sessions > len(conversations)  # some visitors came back
    for key, _label in funnel.STAGES:
        assert ours.totals[key] == theirs.get(key, 0), key
    for key, _label, count in ours.questions:
        assert count == theirs.get(f"diag_asked_{key}", 0), key
    # The generated set really goes down the funnel (a test that cannot fail proves nothing).
    figures = [ours.totals[key] for key, _ in funnel.STAGES]
    assert figures[0] > figures[1] > figures[2] > figures[3] > 0, figures
    assert figures[4] > figures[5] > figures[6] > figures[7] > figures[8] > 0, figures


def test_read_events_from_the_sql_broker_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    assert funnel.read_events(url) == {}
    engine = make_engine(url)
    funnel.broker_metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(funnel.broker_events.insert(), [
            {"sender_id": "a", "data": json.dumps({"sender_id": "a", "event": "action", "name": "action_session_start", "timestamp": 1.0})},
            {"sender_id": "a", "data": "pas du json"},
        ])
    engine.dispose()
    assert list(funnel.read_events(url)) == ["a"] and len(funnel.read_events(url)["a"]) == 1


def test_the_markers_name_only_what_the_domain_knows_and_wrote_covers_every_intent():
    import yaml
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(ROOT / "domain.yml"))
    marker = markers.load_markers(MARKERS)
    assert marker.validate_against_domain(domain)
    wrote = yaml.safe_load((ROOT / "markers" / "funnel.yml").read_text(encoding="utf-8"))["wrote"]
    listed = {item["intent"] for item in wrote["at_least_once"][0]["or"]}
    # Every intent a visitor's message can get, except the widget's automatic « /greet » (and
    # Rasa's internal session_start and back): a new intent must be added to the marker.
    assert listed == set(domain.intents) - {"greet", "session_start", "back"}
    assert {key for key, _ in funnel.STAGES} <= set(markers.marker_names(MARKERS))


def test_events_rasa_cannot_rebuild_are_skipped_not_fatal():
    clock = Clock()
    events = session_start(clock) + [
        {"event": "entities", "timestamp": clock.tick()},         # minimised: its list is gone
        {"event": "reminder", "timestamp": clock.tick()},
        {"event": "pas un événement", "timestamp": clock.tick()},
        user(clock, "/start_coaching", "start_coaching"), action(clock, "action_start_coaching"),
    ]
    [session] = markers.evaluate(MARKERS, "s", [minimised(e) for e in events])
    assert {"opened_chat", "wrote", "started_coaching"} <= session.applied


def test_the_period_keeps_only_the_sessions_that_started_in_it():
    import datetime as dt

    clock = Clock()
    old = session_start(clock) + [user(clock, "/greet", "greet")]
    clock.tick(30 * 86400)
    new = session_start(clock) + [user(clock, "/start_coaching", "start_coaching"), action(clock, "action_start_coaching")]
    since = dt.datetime.fromtimestamp(clock.now - 86400, tz=dt.timezone.utc)
    result = funnel.build_funnel({"a": old + new}, evaluator, since=since)
    assert result.sessions == 1 and result.totals["started_coaching"] == 1
