"""The local spool: a submission made while the leads database is down is kept, then
written exactly once when it returns (bot/leads/spool.py)."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import stat
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from bot.cli import main as cli_main
from bot.leads import spool as spool_module
from bot.leads.db import make_engine, session_scope
from bot.leads.models import ConsentProof, Lead
from bot.leads.service import LeadService
from bot.leads.spool import (
    LeadSpool,
    is_database_outage,
    replay_in_background,
    spool_after_outage,
)



def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture(autouse=True)
def no_spool_env(monkeypatch):
    monkeypatch.delenv("LEADS_SPOOL_DIR", raising=False)
    monkeypatch.delenv("LEADS_SPOOL_RETRY_SECONDS", raising=False)


@pytest.fixture
def spool(tmp_path) -> LeadSpool:
    return LeadSpool(tmp_path / "spool")


def down_service(tmp_path) -> LeadService:
    """A service whose database cannot be opened: every call is an OperationalError."""
    engine = make_engine(f"sqlite:///{tmp_path / 'nowhere' / 'leads.sqlite3'}", create_dir=False)
    return LeadService(engine)


def outage() -> sa_exc.OperationalError:
    return sa_exc.OperationalError("SELECT 1", {}, Exception("connection refused"))


def count(service: LeadService, model, **where) -> int:
    query = sa.select(sa.func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    with session_scope(service.factory) as session:
        return session.execute(query).scalar_one()


# ---------------------------------------------------------------------- writing
def test_a_spooled_submission_is_one_private_file_written_atomically(spool, sub):
    path = spool.put(sub())
    assert path.parent == spool.directory and path.suffix == ".json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(spool.directory).st_mode) == 0o700
    assert [p.name for p in spool.directory.iterdir()] == [path.name]  # no temporary file left
    item = LeadSpool.read(path)
    assert item.submission == sub()
    assert item.spooled_at.tzinfo is not None
    assert "Jeanne" not in repr(item) and "martin" not in repr(item).lower()
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["format"] == 1 and payload["submission"]["email"] == sub().email


def test_files_are_listed_oldest_first_and_temporary_files_are_ignored(spool, sub):
    first = spool.put(sub(sender_id="a"), now=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    second = spool.put(sub(sender_id="b"), now=dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc))
    (spool.directory / ".tmp-half-written").write_text("{")
    assert spool.pending() == [first, second]
    assert spool.count() == 2


def test_the_spool_directory_defaults_to_var_spool_and_follows_the_environment(monkeypatch, tmp_path):
    assert LeadSpool.from_env().directory == tmp_path / "var" / "spool"  # COACH_HOME/var/spool
    monkeypatch.setenv("LEADS_SPOOL_DIR", str(tmp_path / "elsewhere"))
    assert LeadSpool.from_env().directory == tmp_path / "elsewhere"


def test_outages_are_told_apart_from_other_errors():
    assert is_database_outage(outage())
    assert is_database_outage(sa_exc.InterfaceError("x", {}, Exception("closed")))
    assert is_database_outage(sa_exc.TimeoutError("pool exhausted"))
    assert not is_database_outage(sa_exc.IntegrityError("x", {}, Exception("unique")))
    assert not is_database_outage(sa_exc.ProgrammingError("x", {}, Exception("no table")))
    assert not is_database_outage(ValueError("bad"))


# ---------------------------------------------------------------------- replay
def test_replay_writes_each_submission_once_then_deletes_it(spool, service, sub):
    spool.put(sub())
    report = spool.replay(service)
    assert len(report.written) == 1 and report.ok
    assert spool.count() == 0
    again = spool.replay(service)
    assert again.empty
    [lead] = service.export()
    assert lead["email"] == sub().email and lead["consent"] is True
    assert count(service, Lead) == 1
    assert count(service, ConsentProof, sender_id="conv-1") == 1


def test_a_replayed_lead_keeps_the_moment_the_visitor_consented(spool, service, sub):
    asked = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.timezone.utc)  # the database was down then
    path = spool.put(sub(), now=asked)
    spool.replay(service)  # ...and is back now
    with session_scope(service.factory) as session:
        [proof] = session.scalars(sa.select(ConsentProof)).all()
        [lead] = session.scalars(sa.select(Lead)).all()
        assert proof.given_at == asked
        assert lead.created_at == lead.last_contact_at == asked
        assert lead.updated_at > asked  # when the row was written
    assert not path.exists()
    # Replayed again after a crash before the file was deleted: still recognised as written.
    spool.put(sub(), now=asked)
    assert spool.replay(service).skipped == 1


def test_database_still_down_keeps_everything_in_the_spool(spool, sub, tmp_path):
    for sender in ("a", "b", "c"):
        spool.put(sub(sender_id=sender, email=f"{sender}@exemple.fr"))
    report = spool.replay(down_service(tmp_path))
    assert report.waiting == 3 and not report.written and not report.ok
    assert spool.count() == 3


def test_a_replay_interrupted_after_the_commit_is_not_written_twice(spool, service, sub):
    """The replayer wrote the lead, then died before deleting the file."""
    path = spool.put(sub())
    service.submit(LeadSpool.read(path).submission)  # committed...
    assert path.exists()  # ...but the file is still there
    report = spool.replay(service)
    assert report.skipped == 1 and not report.written
    assert spool.count() == 0
    assert count(service, Lead) == 1
    assert count(service, ConsentProof, sender_id="conv-1") == 1


def test_a_newer_submission_of_the_same_conversation_wins_over_the_spooled_one(spool, service, sub):
    spool.put(sub(phone="06 11 11 11 11"))
    time.sleep(0.01)
    service.submit(sub(phone="06 22 22 22 22"))  # the visitor asked again once the DB was back
    report = spool.replay(service)
    assert report.skipped == 1
    [lead] = service.export()
    assert lead["phone"] == "+33622222222"


def test_a_lead_submitted_before_the_outage_is_updated_not_duplicated(spool, service, sub):
    first = service.submit(sub(need="Choisir le partenaire"))
    time.sleep(0.01)
    spool.put(sub(need="Piloter la relation"))
    report = spool.replay(service)
    assert report.written == [first]
    [lead] = service.export()
    assert lead["id"] == first
    assert count(service, Lead) == 1


def test_concurrent_replayers_write_each_file_exactly_once(spool, service, sub):
    for n in range(6):
        spool.put(sub(sender_id=f"conv-{n}", email=f"visiteur{n}@exemple.fr", phone=None))
    calls = []
    lock = threading.Lock()

    class Counting:
        factory = service.factory

        def submit(self, submission, submitted_at=None):
            with lock:
                calls.append(submission.sender_id)
            time.sleep(0.02)  # widen the window in which others could grab the same file
            return service.submit(submission, submitted_at=submitted_at)

    start = threading.Barrier(4)
    reports = []

    def replayer():
        start.wait()
        reports.append(spool.replay(Counting()))

    threads = [threading.Thread(target=replayer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(calls) == sorted(set(calls)) and len(calls) == 6
    assert sum(len(r.written) for r in reports) == 6
    assert spool.count() == 0
    assert count(service, Lead) == 6


def test_a_submission_the_database_refuses_is_set_aside_and_does_not_block_the_others(spool, service, sub):
    spool.put(sub(sender_id="bad", email="pas-une-adresse", phone=None))
    (spool.directory / "00000000-corrupt.json").write_text("{pas du json", encoding="utf-8")
    spool.put(sub(sender_id="good"))
    report = spool.replay(service)
    assert report.failed == 2 and len(report.written) == 1
    assert spool.count() == 0
    assert len(spool.failed()) == 2
    assert stat.S_IMODE(os.stat(spool.failed_directory).st_mode) == 0o700
    assert [lead["sender_id"] for lead in service.export()] == ["good"]


def test_erase_removes_a_visitors_waiting_requests(spool, sub):
    spool.put(sub(sender_id="a", email="jeanne@exemple.fr"))
    spool.put(sub(sender_id="b", email="paul@exemple.fr"))
    spool.put(sub(sender_id="c", email=None, phone="06 12 34 56 78"))
    assert spool.erase(email="JEANNE@exemple.fr") == 1
    assert spool.erase(sender_id="c") == 1
    [left] = spool.pending()
    assert LeadSpool.read(left).submission.sender_id == "b"


# ---------------------------------------------------------------------- the action's fallback
def test_not_an_outage_nothing_is_spooled(spool, sub, service):
    assert spool_after_outage(ValueError("bad"), sub(), lambda: service, spool) is False
    assert spool.count() == 0


def test_an_unwritable_spool_says_so(tmp_path, sub, service):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    assert spool_after_outage(outage(), sub(), lambda: service, LeadSpool(blocked / "spool")) is False


def test_outage_spools_then_the_background_replay_writes_it_when_the_database_returns(
        spool, sub, service, tmp_path, monkeypatch):
    monkeypatch.setattr(spool_module, "_replayer", None)
    monkeypatch.setenv("LEADS_SPOOL_RETRY_SECONDS", "0.05")
    down = down_service(tmp_path)
    state = {"up": False}
    assert spool_after_outage(outage(), sub(), lambda: service if state["up"] else down, spool) is True
    assert spool.count() == 1
    time.sleep(0.3)  # a few attempts while the database is still down
    assert spool.count() == 1 and service.export() == []
    state["up"] = True
    assert wait_for(lambda: spool.count() == 0, timeout=10)
    assert wait_for(lambda: spool_module._replayer is None, timeout=5)
    assert [lead["sender_id"] for lead in service.export()] == ["conv-1"]


def test_only_one_background_replayer_per_process(spool, sub, service, monkeypatch):
    monkeypatch.setattr(spool_module, "_replayer", None)
    spool.put(sub())
    assert replay_in_background(lambda: service, spool, interval=0.2) is True
    assert replay_in_background(lambda: service, spool, interval=0.2) is False
    assert wait_for(lambda: spool.count() == 0, timeout=10)
    assert count(service, Lead) == 1


def test_the_submit_action_spools_on_outage_and_tells_the_visitor_it_is_recorded(
        tmp_path, monkeypatch):
    from actions import contact
    from bot.knowledge import load_knowledge
    from tests.actions.helpers import make_tracker

    monkeypatch.setenv("LEADS_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("LEADS_SPOOL_RETRY_SECONDS", "3600")
    monkeypatch.setattr(spool_module, "_replayer", None)

    class Broken:
        def __init__(self, error):
            self.error = error

        def submit(self, submission):
            raise self.error

    slots = {
        "contact_name": "Jeanne Martin", "contact_company": "Menuiserie Martin",
        "contact_email": "jeanne@exemple.fr", "contact_phone": "-", "contact_callback": "le matin",
        "contact_need": "Choisir le partenaire", "contact_consent": "yes",
    }
    tracker = make_tracker(intent="affirm", text="Oui, j'accepte", slots=slots, sender_id="visitor-9")
    lines = load_knowledge().lines

    def run(error):
        monkeypatch.setattr(contact, "lead_service", lambda: Broken(error))
        from rasa_sdk.executor import CollectingDispatcher

        dispatcher = CollectingDispatcher()
        events = asyncio.run(contact.ActionSubmitLead().run(dispatcher, tracker, {}))
        return [m["text"] for m in dispatcher.messages], events

    said, events = run(outage())
    assert said == list(lines["contact_done"]) and events == []
    [path] = LeadSpool(tmp_path / "spool").pending()
    assert LeadSpool.read(path).submission.sender_id == "visitor-9"

    said, _ = run(RuntimeError("bug"))
    assert said == list(lines["contact_failed"])
    assert LeadSpool(tmp_path / "spool").count() == 1


# ---------------------------------------------------------------------- sip-coach spool
def test_cli_spool_list_replay_and_erase(db_url, sub, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LEADS_DB_URL", db_url)
    monkeypatch.setenv("LEADS_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("LEADS_MAIL_DIR", str(tmp_path / "mail"))
    spool = LeadSpool(tmp_path / "spool")

    assert cli_main(["spool"]) == 0
    assert "Aucune demande en attente" in capsys.readouterr().out

    spool.put(sub(sender_id="a", email="a@exemple.fr"))
    spool.put(sub(sender_id="b", email="b@exemple.fr"))
    assert cli_main(["spool", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 demande(s) en attente") and "a@exemple.fr" not in out

    assert cli_main(["spool", "erase", "--email", "b@exemple.fr"]) == 0
    assert "1 demande(s) en attente effacée(s)" in capsys.readouterr().out

    assert cli_main(["spool", "replay"]) == 0
    assert "Demandes en attente : 1 enregistrée(s)." in capsys.readouterr().out
    assert cli_main(["spool", "replay"]) == 0
    assert "Aucune demande en attente." in capsys.readouterr().out
    assert cli_main(["leads", "export", "--format", "json"]) == 0
    assert [lead["sender_id"] for lead in json.loads(capsys.readouterr().out)] == ["a"]


def test_cli_spool_replay_with_the_database_down_fails_and_keeps_the_request(sub, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LEADS_DB_URL", f"sqlite:///{tmp_path / 'nowhere' / 'leads.sqlite3'}")
    monkeypatch.setenv("LEADS_SPOOL_DIR", str(tmp_path / "spool"))
    spool = LeadSpool(tmp_path / "spool")
    spool.put(sub())
    # The nowhere/ directory must not be created by the replay (it would "fix" the outage).
    monkeypatch.setattr("bot.leads.db.ensure_sqlite_dir", lambda url: None)
    assert cli_main(["spool", "replay"]) == 1
    captured = capsys.readouterr()
    assert "1 toujours en attente" in captured.out and "spool" in captured.err
    assert spool.count() == 1


def test_the_outbox_worker_also_replays_the_spool(sub, tmp_path):
    import signal
    import subprocess
    import sys

    from bot.leads.db import upgrade_database

    url = f"sqlite:///{tmp_path / 'leads.sqlite3'}"
    upgrade_database(url)
    LeadSpool(tmp_path / "spool").put(sub())
    env = {**os.environ, "LEADS_DB_URL": url, "LEADS_SPOOL_DIR": str(tmp_path / "spool"),
           "LEADS_MAIL_DIR": str(tmp_path / "mail"), "PYTHONWARNINGS": "ignore"}
    worker = subprocess.Popen(
        [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())",
         "outbox", "worker", "--interval", "0.2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert wait_for(lambda: LeadSpool(tmp_path / "spool").count() == 0, timeout=30)
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "Demandes en attente : 1 enregistrée(s)." in out
    assert "Notifications : 1 envoyée(s)." in out  # the replayed lead's notice, same pass
    service = LeadService(make_engine(url))
    try:
        assert [lead["sender_id"] for lead in service.export()] == ["conv-1"]
    finally:
        service.close()
