"""Isolated costs of the hot spots the profile points at, measured in one process (JSON on stdout).

Run by bench/run.py after the servers are stopped (the machine quieter), or by hand:
    .venv/bin/python bench/micro.py
1. Rasa's check of each custom action's reply (`RemoteAction._validate_action_result` calls
   `jsonschema.validate`, which first validates the *schema* against its meta-schema, every
   call) vs the same check with a validator built once.
2. spaCy `fr_core_news_md` as Rasa's SpacyNLP runs it (the whole pipeline, parser and NER
   included) vs without the parser and NER (lemmas compared), time per message and memory.
3. A SQLite commit on this disk (the tracker store commits once per message).
4. The tracker store's work for one message of a 100-event conversation (read the conversation,
   add a five-event turn, write it): Rasa's SQLTrackerStore as Rasa runs it (an event's class
   found by walking the `Event` class tree), with the name-to-class table of
   channels/server_tuning.py, and our LeanSQLTrackerStore (channels/tracker_store.py).
"""
from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import OUR_CONVERSATIONS  # noqa: E402


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def timed(fn, n: int) -> float:
    """Median milliseconds of n calls."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(out), 2)


def jsonschema_costs() -> dict:
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    spec = RemoteAction.action_response_format_spec()
    # A reply of the size our actions send: a few slot events and two messages with buttons.
    reply = {
        "events": [{"event": "slot", "timestamp": None, "name": n, "value": v}
                   for n, v in (("coaching_step", 3), ("coaching_status", "running"), ("requested_slot", None))],
        "responses": [
            {"text": "Les cinq points obligatoires d’un partenariat : " + "x" * 300, "buttons": [
                {"title": "Continuer", "payload": "/continue"}, {"title": "Une question", "payload": "/want_to_ask"}],
             "elements": [], "custom": {}, "template": None, "response": None, "image": None, "attachment": None},
            {"text": "On y va ?", "buttons": [], "elements": [], "custom": {}, "image": None, "attachment": None},
        ],
    }
    jsonschema.validate(reply, spec)  # warm
    validator_cls = jsonschema.validators.validator_for(spec)
    validator_cls.check_schema(spec)
    compiled = validator_cls(spec)
    return {
        "jsonschema": jsonschema.__version__,
        "rasa_validate_ms": timed(lambda: jsonschema.validate(reply, spec), 40),
        "check_schema_only_ms": timed(lambda: validator_cls.check_schema(spec), 40),
        "compiled_validator_ms": timed(lambda: compiled.validate(reply), 200),
    }


def spacy_costs() -> dict:
    import spacy

    texts = sorted({t for conv in OUR_CONVERSATIONS for t in conv if not t.startswith("/")})
    full = spacy.load("fr_core_news_md")
    full.disable_pipe("parser")  # what Rasa's own SpacyNLP runs
    slim = spacy.load("fr_core_news_md", exclude=["parser", "ner"])
    product_exclude = product_spacy_exclude()
    product = spacy.load("fr_core_news_md", exclude=product_exclude)
    for t in texts:  # warm them
        full(t), slim(t), product(t)

    def per_message(nlp) -> float:
        return timed(lambda: [nlp(t) for t in texts], 15) / len(texts)

    same_lemmas = all([x.lemma_ for x in full(t)] == [x.lemma_ for x in slim(t)] for t in texts)
    return {
        "model": "fr_core_news_md " + full.meta.get("version", "?"),
        "pipes": full.pipe_names,
        "messages": len(texts),
        "full_pipeline_ms_per_message": round(per_message(full), 2),
        "without_parser_ner_ms_per_message": round(per_message(slim), 2),
        "same_lemmas_without_parser_ner": same_lemmas,
        "rss_of_loading_full_mib": spacy_load_rss([]),
        "rss_of_loading_without_parser_ner_mib": spacy_load_rss(["parser", "ner"]),
        "product_exclude": product_exclude,
        "product_loader_ms_per_message": round(per_message(product), 3),
        "rss_of_loading_product_mib": spacy_load_rss(product_exclude),
    }


def product_spacy_exclude() -> list[str]:
    """What config.yml's SpacyNLP leaves out (nlu_components/spacy_nlp.py)."""
    import yaml

    pipeline = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yml").read_text())["pipeline"]
    loader = next((c for c in pipeline if c["name"].endswith("SpacyNLP")), {})
    return list(loader.get("exclude", []))


def spacy_load_rss(exclude: list[str]) -> float:
    """RSS growth of a fresh process (spaCy imported) when it loads the model and parses one text."""
    code = (
        "import json, sys, spacy\n"
        "def rss():\n"
        "    return [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS:')][0] / 1024\n"
        "r0 = rss()\n"
        "nlp = spacy.load('fr_core_news_md', exclude=json.loads(sys.argv[1]))\n"
        "nlp('Bonjour, c\\'est quoi un partenariat ?')\n"
        "print(round(rss() - r0, 1))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, json.dumps(exclude)], capture_output=True, text=True,
                         timeout=300)
    return float(out.stdout.strip()) if out.returncode == 0 else None


def sqlite_commit_cost() -> dict:
    with tempfile.TemporaryDirectory() as d:
        db = sqlite3.connect(Path(d) / "t.sqlite3")
        db.execute("create table events (id integer primary key, data text)")
        db.commit()

        def insert_commit() -> None:
            db.execute("insert into events (data) values (?)", ("x" * 500,))
            db.commit()

        ms = timed(insert_commit, 100)
        db.close()
    return {"insert_and_commit_ms": ms}


def tracker_store_costs() -> dict:
    import asyncio

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from channels import server_tuning
    from channels.tracker_store import LeanSQLTrackerStore

    rasa_resolve = Event.resolve_by_type
    server_tuning.apply()  # SQLite pool and WAL for all three; the event-class table toggled below
    table_resolve = Event.resolve_by_type
    domain = Domain.load(str(Path(__file__).resolve().parents[1] / "domain.yml"))
    slot = next(s.name for s in domain.slots if s.name != "requested_slot")

    def turn(number: int) -> list:
        intent = {"name": "continue", "confidence": 0.97}
        parse = {"intent": intent, "entities": [], "text": f"ok la suite {number}",
                 "intent_ranking": [{"name": f"intent_{k}", "confidence": 0.01} for k in range(10)]}
        return [UserUttered(parse["text"], intent, [], parse), ActionExecuted("action_coach_step"),
                BotUttered("Les cinq points obligatoires d’un partenariat : " + "x" * 250,
                           {"buttons": [{"title": "Continuer", "payload": "/continue"}]}),
                SlotSet(slot, str(number)), ActionExecuted("action_listen")]

    async def per_message(store_cls, resolve) -> float:
        Event.resolve_by_type = resolve
        with tempfile.TemporaryDirectory() as d:
            store = store_cls(domain=domain, dialect="sqlite", db=f"{d}/tracker.sqlite3")
            start = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
            tracker = DialogueStateTracker.from_events("bench", start + [e for n in range(19) for e in turn(n)],
                                                       domain.slots)
            await store.save(tracker)  # 98 events stored
            durations = []
            for number in range(19, 49):
                t = time.perf_counter()
                tracker = await store.retrieve("bench")
                for event in turn(number):
                    tracker.update(event)
                await store.save(tracker)
                durations.append((time.perf_counter() - t) * 1000)
            store.engine.dispose()
        return round(statistics.median(durations), 2)  # conversations of 98 to 143 events

    async def measure() -> dict:
        try:
            return {
                "events_read": "98-143",
                "rasa_sql_store_ms": await per_message(SQLTrackerStore, rasa_resolve),
                "rasa_sql_store_with_event_table_ms": await per_message(SQLTrackerStore, table_resolve),
                "lean_store_with_event_table_ms": await per_message(LeanSQLTrackerStore, table_resolve),
            }
        finally:
            Event.resolve_by_type = table_resolve

    return asyncio.run(measure())


def main() -> None:
    out = {"loadavg_start": [round(x, 2) for x in os.getloadavg()]}
    for name, fn in (("sqlite", sqlite_commit_cost), ("spacy", spacy_costs), ("jsonschema", jsonschema_costs),
                     ("tracker_store", tracker_store_costs)):
        try:
            out[name] = fn()
        except Exception as exc:  # a missing piece must not lose the others
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
    out["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
