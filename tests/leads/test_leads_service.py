"""The facade: submit, update, never merge by e-mail, manual merge, consent, validation, logs."""
import logging
import threading

import pytest
import sqlalchemy as sa

from bot.leads.consent import UnknownConsentVersion, get_notice
from bot.leads.db import session_factory, session_scope
from bot.leads.models import (
    Base, ConsentProof, DiagnosticSnapshot, Lead, LeadSender, OutboxMessage,
)
from bot.leads.service import ConsentRequired, InvalidSubmission, LeadService
from bot.typography import french_spacing


def count(engine, model) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(model.__table__)).scalar_one()


def outbox_rows(engine):
    with session_scope(session_factory(engine)) as session:
        return [(r.lead_id, r.channel, r.event, r.status) for r in
                session.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).scalars()]


def test_submit_stores_lead_consent_proof_snapshot_and_notice(service, engine, sub):
    lead_id = service.submit(sub())
    record = service.export()[0]
    assert record["id"] == lead_id
    assert record["name"] == "Jeanne Martin"
    assert record["email"] == "jeanne.martin@menuiserie-martin.fr"
    assert record["phone"] == "+33634223171"
    assert record["consent"] is True
    assert record["consent_version"] == get_notice().version
    assert record["consent_notice_sha256"] == get_notice().sha256
    assert record["relationship"] == "partnership"
    assert record["missing_pillars"] == ["balance", "contract"]
    assert record["qualification"] == "hot" and record["score"] == 80
    assert record["status"] == "new"
    assert record["sender_ids"] == ["conv-1"]
    assert outbox_rows(engine) == [(lead_id, "email", "lead.created", "pending")]


def test_second_submission_of_a_conversation_updates_without_renotifying(service, engine, sub, diag):
    first = service.submit(sub())
    second = service.submit(sub(name="Jeanne Martin-Durand", phone="07 81 22 33 44", email=None,
                                need="Pas urgent", diagnostic=diag(missing_pillars=[])))
    assert first == second
    assert count(engine, Lead) == 1
    record = service.export()[0]
    assert record["name"] == "Jeanne Martin-Durand"
    assert record["phone"] == "+33781223344"
    assert record["email"] == "jeanne.martin@menuiserie-martin.fr"  # not erased by a None
    assert record["missing_pillars"] == []  # latest snapshot wins
    assert count(engine, ConsentProof) == 2 and count(engine, DiagnosticSnapshot) == 2
    assert len(outbox_rows(engine)) == 1  # no second notice


def test_same_email_from_another_conversation_is_a_lead_of_its_own_marked_duplicate(service, engine, sub):
    first = service.submit(sub())
    service.deliver_pending()
    second = service.submit(sub(sender_id="conv-2", email="JEANNE.MARTIN@menuiserie-martin.fr",
                                phone=None, diagnostic=None, name="Autre Nom"))
    assert second != first
    records = {r["id"]: r for r in service.export()}
    assert records[first]["name"] == "Jeanne Martin" and records[first]["sender_ids"] == ["conv-1"]
    assert records[first]["possible_duplicate_of"] is None
    assert records[second]["possible_duplicate_of"] == first
    assert records[second]["sender_ids"] == ["conv-2"]
    assert [r[2:] for r in outbox_rows(engine)] == [("lead.created", "sent"), ("lead.created", "pending")]


def test_a_stranger_typing_other_visitors_emails_never_changes_their_leads(service, engine, sub):
    """The audit's attack: Alice and Bob consent; a third conversation submits « Mallory
    Pirate » with Alice's e-mail, then with Bob's."""
    alice = service.submit(sub(sender_id="conv-alice", name="Alice", email="alice@example.fr",
                               phone="06 11 22 33 44"))
    bob = service.submit(sub(sender_id="conv-bob", name="Bob", email="bob@example.fr", phone=None))
    before = {r["id"]: r for r in service.export()}
    mallory = service.submit(sub(sender_id="conv-mallory", name="Mallory Pirate",
                                 email="alice@example.fr", phone=None))
    again = service.submit(sub(sender_id="conv-mallory", name="Mallory Pirate",
                               email="bob@example.fr", phone=None))
    assert again == mallory and mallory not in (alice, bob)
    after = {r["id"]: r for r in service.export()}
    for lead in (alice, bob):
        assert {k: v for k, v in after[lead].items() if k != "updated_at"} == \
            {k: v for k, v in before[lead].items() if k != "updated_at"}
    assert after[mallory]["email"] == "bob@example.fr" and after[mallory]["phone"] is None
    assert after[mallory]["possible_duplicate_of"] == alice  # first flagged, kept
    assert count(engine, LeadSender) == 3
    # Alice's erasure finds her lead (and Mallory's copy of her address is Bob's now).
    report = service.erase_email("alice@example.fr")
    assert report.lead_ids == [alice]


def test_the_consultant_merges_two_leads_by_hand_and_it_is_recorded(service, engine, sub):
    a = service.submit(sub(sender_id="conv-a", email="a@entreprise-a.fr", phone=None))
    b = service.submit(sub(sender_id="conv-b", email="a@entreprise-a.fr", phone="06 11 22 33 44", name="B"))
    assert service.export()[1]["possible_duplicate_of"] == a
    record = service.merge(b, a, "cli:consultant")
    assert record["id"] == a and count(engine, Lead) == 1
    assert sorted(record["sender_ids"]) == ["conv-a", "conv-b"]
    assert record["phone"] == "+33611223344" and record["possible_duplicate_of"] is None
    assert count(engine, ConsentProof) == 2 and count(engine, LeadSender) == 2
    audit = service.report(a)["audit"]
    assert [(x["actor"], x["action"]) for x in audit] == [("cli:consultant", "merge")]
    assert f"n°{b}" in audit[0]["detail"]
    # the merged lead's pending "new lead" notice is dropped, the target's kept
    assert [r[0] for r in outbox_rows(engine)] == [a]
    with pytest.raises(ValueError):
        service.merge(a, a, "cli:consultant")


@pytest.mark.parametrize("consent", [False, None, "oui"])
def test_without_consent_nothing_is_stored(service, engine, sub, consent):
    with pytest.raises(ConsentRequired):
        service.submit(sub(consent=consent))
    for table in Base.metadata.sorted_tables:
        with engine.connect() as connection:
            assert connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0


def test_consent_refused_after_an_earlier_lead_changes_nothing(service, engine, sub):
    service.submit(sub())
    before = service.export()
    with pytest.raises(ConsentRequired):
        service.submit(sub(name="Autre nom", consent=False))
    assert service.export() == before


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"email": "pas-une-adresse"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"email": None, "phone": None}, "email"),
        ({"email": "", "phone": ""}, "email"),
        ({"name": "   "}, "name"),
        ({"sender_id": ""}, "sender_id"),
    ],
)
def test_invalid_submissions_are_refused_with_a_french_reason(service, engine, sub, overrides, field):
    with pytest.raises(InvalidSubmission) as caught:
        service.submit(sub(**overrides))
    assert caught.value.field == field
    assert caught.value.message
    assert count(engine, Lead) == 0


def test_unknown_consent_version_is_refused(service, engine, sub):
    with pytest.raises(UnknownConsentVersion):
        service.submit(sub(consent_version="v0"))
    assert count(engine, Lead) == 0


def test_phone_only_lead_without_diagnostic(service, sub):
    lead_id = service.submit(sub(email=None, diagnostic=None, need=None))
    record = service.export()[0]
    assert record["id"] == lead_id and record["email"] is None
    assert record["relationship"] is None and record["missing_criteria"] == []
    assert record["qualification"] == "cold" and record["score"] == 0


def test_find_lead_id(service, sub):
    assert service.find_lead_id("conv-1") is None
    lead_id = service.submit(sub())
    assert service.find_lead_id("conv-1") == lead_id


def test_webhook_channel_is_enqueued_when_configured(make_service, engine, sub):
    svc = make_service(webhook_url="http://127.0.0.1:9/hook")
    svc.submit(sub())
    assert sorted(r[1] for r in outbox_rows(engine)) == ["email", "webhook"]
    svc_none = make_service(email_enabled=False)
    svc_none.submit(sub(sender_id="other", email="autre@entreprise.fr"))
    assert len(outbox_rows(engine)) == 2


def test_personal_data_never_logged(make_service, sub, caplog, tracker):
    svc = make_service()
    tracker.conversation("conv-1", [("Je m'appelle Jeanne Martin", "Enchanté !")])
    with caplog.at_level(logging.DEBUG):
        lead_id = svc.submit(sub())
        svc.deliver_pending()
        svc.mark(lead_id, "contacted", "Rappelée")
        svc.erase_email("jeanne.martin@menuiserie-martin.fr")
    text = caplog.text
    assert str(lead_id) in text
    for secret in ("Jeanne", "Martin", "menuiserie", "0634223171", "+33634223171", "34 22 31 71"):
        assert secret not in text, secret
    assert "Jeanne" not in repr(sub())


def test_concurrent_submissions_of_one_conversation_make_one_lead(service, engine, sub):
    ids, errors = [], []
    barrier = threading.Barrier(4)

    def run(i):
        try:
            barrier.wait()
            ids.append(service.submit(sub(name=f"Visiteur {i}")))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(ids)) == 1
    assert count(engine, Lead) == 1 and count(engine, LeadSender) == 1
    assert len(outbox_rows(engine)) == 1


def test_from_env_reads_the_environment(monkeypatch, db_url, tmp_path):
    monkeypatch.setenv("LEADS_DB_URL", db_url)
    monkeypatch.setenv("TRACKER_DB_URL", "sqlite:///elsewhere.sqlite3")
    monkeypatch.setenv("LEADS_WEBHOOK_URL", "http://127.0.0.1:1/x")
    monkeypatch.setenv("OUTBOX_MAX_ATTEMPTS", "3")
    svc = LeadService.from_env()
    try:
        # relative to the project root (COACH_HOME here), never to the current directory
        assert svc.tracker_url == f"sqlite:///{tmp_path}/elsewhere.sqlite3"
        assert svc.notifier.channels == ["email", "webhook"]
        assert svc.outbox.policy.max_attempts == 3
        assert svc.deliver_on_submit is True
        assert str(svc.engine.url) == str(sa.engine.make_url(db_url))
    finally:
        svc.close()


def test_deliver_on_submit_sends_in_the_background(engine, tracker, mail_dir, sub):
    from bot.leads.notifier import Notifier, NotifierConfig

    svc = LeadService(engine, Notifier(NotifierConfig(mail_dir=mail_dir)), tracker.url,
                      deliver_on_submit=True)
    lead_id = svc.submit(sub())
    for thread in svc._threads:
        thread.join(60)
        assert not thread.is_alive()
    assert len(list(mail_dir.glob(f"lead-{lead_id}-*.eml"))) == 1
    assert outbox_rows(engine)[0][3] == "sent"


def test_from_env_can_upgrade(monkeypatch, tmp_path):
    monkeypatch.setenv("LEADS_DB_URL", f"sqlite:///{tmp_path}/fresh/leads.sqlite3")
    svc = LeadService.from_env(upgrade=True, deliver_on_submit=False)
    try:
        assert svc.list_leads() == []
    finally:
        svc.close()


def test_the_callback_moment_is_kept_as_said_and_normalised(service, sub):
    lead = service.submit(sub(callback_time="plutôt en fin de journée, après 17h, pas le lundi"))
    record = service.export()[0]
    assert record["callback_time"] == "plutôt en fin de journée, après 17h, pas le lundi"
    assert record["callback_window"] == "sauf lundi · 17 h – 19 h"
    service.edit(lead, callback_time="mardi matin")
    assert service.export()[0]["callback_window"] == "mardi · 9 h – 12 h"


def test_the_visitors_own_words_are_shown_next_to_the_answers(service, sub, diag):
    from bot.leads.notifier import render_email_bodies

    snapshot = diag()
    snapshot["answers"]["shared_desire"] = "partly"
    snapshot["words"] = {"shared_desire": "j'espère... disons que lui est moins motivé que moi"}
    lead = service.submit(sub(diagnostic=snapshot))
    text, html = render_email_bodies(service.report(lead))
    assert french_spacing("« j'espère... disons que lui est moins motivé que moi »") in text


def test_submissions_are_limited_per_conversation_and_per_address(make_service, sub):
    """A script flooding the consultant: 5 submissions an hour from one conversation, 3 new
    leads a day with one e-mail or phone; nothing is stored beyond, with a clear error."""
    from bot.leads.service import SubmissionLimits, TooManySubmissions

    svc = make_service()
    for _ in range(5):
        first = svc.submit(sub(sender_id="flood"))
    with pytest.raises(TooManySubmissions):
        svc.submit(sub(sender_id="flood"))
    svc.submit(sub(sender_id="other-1", email="autre@exemple.fr", phone="06 12 34 56 78"))
    svc.submit(sub(sender_id="other-2", phone=None))  # Jeanne's e-mail: 2 leads today
    svc.submit(sub(sender_id="other-3", email=None))  # Jeanne's phone: 3
    with pytest.raises(TooManySubmissions):
        svc.submit(sub(sender_id="other-4"))  # a 4th new lead with Jeanne's e-mail or phone today
    assert svc.find_lead_id("other-4") is None and svc.find_lead_id("flood") == first
    assert SubmissionLimits.from_env({"LEADS_MAX_PER_CONVERSATION": "0", "LEADS_MAX_PER_ADDRESS": "x"}) \
        == SubmissionLimits(per_conversation_per_hour=0, per_address_per_day=3)
