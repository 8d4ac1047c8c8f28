"""The outbox: an outage delays a notice, never loses it, never sends it twice."""
import datetime as dt
import threading

import sqlalchemy as sa

from bot.leads.db import session_factory, session_scope
from bot.leads.models import OutboxMessage, utcnow
from bot.leads.outbox import OutboxPolicy


def rows(engine):
    with session_scope(session_factory(engine)) as session:
        return list(session.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def later(seconds: float) -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=seconds)


def test_webhook_down_then_up_is_delivered_exactly_once(make_service, http_receiver, engine, sub):
    svc = make_service(email_enabled=False, webhook_url=http_receiver.url, timeout=2)
    lead_id = svc.submit(sub())

    # receiver down: connection refused -> back to pending, with a backoff
    report = svc.deliver_pending()
    assert report.retry_later and not report.sent
    (row,) = rows(engine)
    assert row.status == "pending" and row.attempts == 1
    assert "injoignable" in row.last_error
    assert row.next_attempt_at > utcnow()
    # not due yet: nothing is attempted
    assert svc.deliver_pending().retry_later == []
    assert rows(engine)[0].attempts == 1

    # still down at the next due time
    report = svc.deliver_pending(now=later(61))
    assert report.retry_later and rows(engine)[0].attempts == 2

    # up again: delivered once, and never again
    http_receiver.start()
    report = svc.deliver_pending(now=later(3600))
    assert report.sent == [row.id]
    for _ in range(3):
        assert svc.deliver_pending(now=later(7200)).sent == []
    assert len(http_receiver.requests) == 1
    assert http_receiver.requests[0]["json"]["lead"]["id"] == lead_id
    (row,) = rows(engine)
    assert row.status == "sent" and row.attempts == 3 and row.last_error is None


def test_webhook_error_status_is_retried(make_service, http_receiver, engine, sub):
    http_receiver.statuses = [503, 500]
    http_receiver.start()
    svc = make_service(email_enabled=False, webhook_url=http_receiver.url)
    svc.submit(sub())
    assert svc.deliver_pending().retry_later
    assert "HTTP 503" in rows(engine)[0].last_error
    assert svc.deliver_pending(now=later(61)).retry_later
    assert svc.deliver_pending(now=later(600)).sent
    assert len(http_receiver.requests) == 1


def test_smtp_down_then_up_is_delivered_exactly_once(make_service, smtp_server, engine, sub):
    svc = make_service(**smtp_server.config())
    svc.submit(sub())
    report = svc.deliver_pending()
    assert report.retry_later
    assert rows(engine)[0].status == "pending"
    smtp_server.start()
    assert svc.deliver_pending(now=later(61)).sent
    assert svc.deliver_pending(now=later(7200)).sent == []
    assert len(smtp_server.messages) == 1


def test_both_channels_are_independent(make_service, smtp_server, http_receiver, engine, sub):
    smtp_server.start()
    svc = make_service(webhook_url=http_receiver.url, **smtp_server.config())
    svc.submit(sub())
    report = svc.deliver_pending()
    assert len(report.sent) == 1 and len(report.retry_later) == 1  # e-mail ok, webhook down
    http_receiver.start()
    assert len(svc.deliver_pending(now=later(61)).sent) == 1
    assert len(smtp_server.messages) == 1 and len(http_receiver.requests) == 1


def test_concurrent_workers_send_each_notice_once(make_service, http_receiver, engine, sub):
    http_receiver.start()
    svc = make_service(email_enabled=False, webhook_url=http_receiver.url)
    for i in range(5):
        svc.submit(sub(sender_id=f"c{i}", email=f"v{i}@entreprise.fr", phone=None))
    barrier = threading.Barrier(4)
    reports = []

    def worker():
        barrier.wait()
        reports.append(svc.deliver_pending())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = sorted(i for r in reports for i in r.sent)
    assert sent == sorted(r.id for r in rows(engine))  # each row by exactly one worker
    assert len(http_receiver.requests) == 5
    keys = {r["json"]["delivery_id"] for r in http_receiver.requests}
    assert len(keys) == 5


def test_a_claimed_row_is_not_claimed_again_until_its_lease_expires(service, engine, sub):
    service.submit(sub())
    (row,) = rows(engine)
    claim = service.outbox.claim(row.id)
    assert claim is not None and claim.attempts == 1
    assert service.outbox.claim(row.id) is None  # another worker cannot take it
    assert service.deliver_pending().sent == []
    # the first worker crashed: after the lease the row is reclaimed, same delivery key
    report = service.deliver_pending(now=later(service.outbox.policy.lease_seconds + 1))
    assert report.sent == [row.id]
    assert rows(engine)[0].delivery_key == claim.delivery_key
    # the crashed worker's late "sent" is ignored: its claim is no longer valid
    assert service.outbox.mark_sent(claim) is False


def test_gives_up_after_max_attempts_then_retry_brings_it_back(make_service, http_receiver, engine, sub):
    svc = make_service(email_enabled=False, webhook_url=http_receiver.url, timeout=2)
    svc.outbox.policy = OutboxPolicy(max_attempts=2, backoff_seconds=1, backoff_max_seconds=1)
    svc.submit(sub())
    assert svc.deliver_pending().retry_later
    report = svc.deliver_pending(now=later(5))
    assert report.failed and rows(engine)[0].status == "failed"
    assert svc.deliver_pending(now=later(3600)).sent == []  # failed rows wait for a human
    assert svc.outbox.reschedule() == 1
    (row,) = rows(engine)
    assert row.status == "pending" and row.attempts == 0
    http_receiver.start()
    assert svc.deliver_pending().sent
    assert len(http_receiver.requests) == 1


def test_backoff_grows_and_is_capped():
    policy = OutboxPolicy(backoff_seconds=30, backoff_max_seconds=3600)
    assert [policy.backoff(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]


def test_an_erased_lead_takes_its_pending_notices_with_it(service, engine, sub):
    service.submit(sub())
    assert len(rows(engine)) == 1
    service.erase_email("jeanne.martin@menuiserie-martin.fr")
    assert rows(engine) == []


def test_notice_is_rendered_from_the_current_lead(make_service, http_receiver, engine, sub):
    http_receiver.start()
    svc = make_service(email_enabled=False, webhook_url=http_receiver.url)
    svc.submit(sub())
    svc.submit(sub(phone="07 81 22 33 44"))  # corrected before the notice went out
    svc.deliver_pending()
    assert http_receiver.requests[0]["json"]["lead"]["phone"] == "+33781223344"


def test_outbox_policy_from_env():
    policy = OutboxPolicy.from_env({"OUTBOX_MAX_ATTEMPTS": "4", "OUTBOX_BACKOFF_SECONDS": "5"})
    assert policy.max_attempts == 4 and policy.backoff_seconds == 5
    assert OutboxPolicy.from_env({}) == OutboxPolicy()
