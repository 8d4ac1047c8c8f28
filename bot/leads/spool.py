"""The local spool: lead submissions the leads database could not take, kept until it returns.

When the leads database is down (or unreachable) at the moment a consenting visitor submits,
the action server does not lose the request: :func:`spool_after_outage` writes the submission
to a local directory, one JSON file per submission, and the visitor is told the request is
recorded. The file is replayed, **exactly once**, when the database is back, by:

* the action server itself: a background thread (one per process) started at the first
  spooled submission, every ``LEADS_SPOOL_RETRY_SECONDS`` (default 30) until the spool is empty;
* ``sip-coach outbox worker`` on each pass, and ``sip-coach spool replay`` (cron, by hand).

Settings: ``LEADS_SPOOL_DIR`` (default ``var/spool``, relative to the project root),
``LEADS_SPOOL_RETRY_SECONDS``. The directory is ``0700`` and every file ``0600``: it holds
personal data the visitor consented to give, nothing else. Files are written atomically
(temporary file, ``fsync``, ``rename``): a reader never sees half a submission.

Exactly once, even with several replayers (two action servers and the worker on one machine):

* a file is replayed under an exclusive ``flock``; after locking, the replayer checks that
  the path still names the same, still linked, file (another replayer may have finished it);
* ``LeadService.submit`` is an upsert by conversation (sender id), and the file is deleted
  only after the transaction committed;
* before submitting, a spooled submission is **skipped** (and deleted) when the leads
  database already holds a consent proof from the same conversation given at or after the
  moment it was spooled: either this very file was written and the replayer stopped before
  deleting it, or the visitor submitted again since (the newer details win);
* a replayed lead keeps the moment the visitor submitted (consent proof, creation, last
  contact): ``LeadService.submit(..., submitted_at=spooled_at)``;
* a file the database refuses for good (invalid, unknown consent version, unreadable) is
  moved to ``failed/`` (kept, listed by ``sip-coach spool``), so it never blocks the others.

Logs carry file ids and conversation ids, never names, e-mails or phone numbers.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import json
import logging
import os
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, List, Mapping, Optional, Union

log = logging.getLogger(__name__)

DEFAULT_SPOOL_DIR = "var/spool"
DEFAULT_RETRY_SECONDS = 30.0
FORMAT_VERSION = 1
SUFFIX = ".json"
TMP_PREFIX = ".tmp-"
FAILED_DIR = "failed"

_SUBMISSION_FIELDS = (
    "sender_id", "name", "company", "email", "phone", "callback_time", "need",
    "consent", "consent_version", "diagnostic",
)


def spool_dir(env: Optional[Mapping[str, str]] = None) -> Path:
    env = os.environ if env is None else env
    from bot.paths import project_path

    return project_path(env.get("LEADS_SPOOL_DIR") or DEFAULT_SPOOL_DIR, env)


def retry_seconds(env: Optional[Mapping[str, str]] = None) -> float:
    env = os.environ if env is None else env
    raw = (env.get("LEADS_SPOOL_RETRY_SECONDS") or "").strip()
    if not raw:
        return DEFAULT_RETRY_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"LEADS_SPOOL_RETRY_SECONDS doit être un nombre (reçu : {raw!r})") from None
    if value <= 0:
        raise ValueError("LEADS_SPOOL_RETRY_SECONDS doit être positif")
    return value


def is_database_outage(error: BaseException) -> bool:
    """True for "the database cannot be reached right now" (connection refused or lost,
    database not accepting connections, pool exhausted): worth keeping and retrying.
    False for everything else (invalid data, missing schema, constraint violations)."""
    from sqlalchemy import exc

    if isinstance(error, (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError,
                          exc.TimeoutError)):
        return True
    return isinstance(error, exc.DBAPIError) and bool(getattr(error, "connection_invalidated", False))


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class SpooledSubmission:
    id: str
    spooled_at: dt.datetime  # aware UTC
    submission: Any  # bot.leads.service.LeadSubmission

    def __repr__(self) -> str:  # no personal data in logs or tracebacks
        return f"SpooledSubmission(id={self.id!r}, spooled_at={self.spooled_at.isoformat()!r})"


@dataclass
class ReplayReport:
    written: List[int] = field(default_factory=list)  # lead ids written from the spool
    skipped: int = 0  # already in the database (or superseded by a newer submission)
    waiting: int = 0  # still in the spool: the database is still unreachable
    failed: int = 0  # refused for good, moved to failed/

    @property
    def ok(self) -> bool:
        return not self.waiting and not self.failed

    @property
    def empty(self) -> bool:
        return not (self.written or self.skipped or self.waiting or self.failed)


def _encode(submission: Any, spooled_at: dt.datetime, spool_id: str) -> bytes:
    values = dataclasses.asdict(submission)
    payload = {
        "format": FORMAT_VERSION,
        "id": spool_id,
        "spooled_at": spooled_at.isoformat(),
        "submission": {name: values.get(name) for name in _SUBMISSION_FIELDS},
    }
    return json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")


def _decode(raw: bytes) -> SpooledSubmission:
    from bot.leads.service import LeadSubmission

    payload = json.loads(raw.decode("utf-8"))
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
        raise ValueError("format de fichier inconnu")
    spooled_at = dt.datetime.fromisoformat(payload["spooled_at"])
    if spooled_at.tzinfo is None:
        raise ValueError("date sans fuseau")
    values = payload["submission"]
    if not isinstance(values, dict):
        raise ValueError("soumission illisible")
    submission = LeadSubmission(**{k: values[k] for k in _SUBMISSION_FIELDS if k in values})
    return SpooledSubmission(str(payload["id"]), spooled_at, submission)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


class LeadSpool:
    """A directory of spooled submissions (see the module documentation)."""

    def __init__(self, directory: Union[str, Path, None] = None) -> None:
        self.directory = Path(directory) if directory is not None else spool_dir()

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "LeadSpool":
        return cls(spool_dir(env))

    @property
    def failed_directory(self) -> Path:
        return self.directory / FAILED_DIR

    # ------------------------------------------------------------------ writing
    def _ensure_dir(self, path: Path) -> None:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            os.chmod(path, 0o700)
        except PermissionError:  # pragma: no cover - a directory owned by someone else
            pass

    def put(self, submission: Any, now: Optional[dt.datetime] = None) -> Path:
        """Write ``submission`` (a ``LeadSubmission``) atomically; return the file's path."""
        now = now or _utcnow()
        self._ensure_dir(self.directory)
        spool_id = f"{now.strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:12]}"
        final = self.directory / f"{spool_id}{SUFFIX}"
        tmp = self.directory / f"{TMP_PREFIX}{spool_id}"
        data = _encode(submission, now, spool_id)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
        os.replace(tmp, final)
        _fsync_dir(self.directory)
        log.warning("lead submission of conversation %s kept in the spool as %s",
                    getattr(submission, "sender_id", "?"), spool_id)
        return final

    # ------------------------------------------------------------------ reading
    def pending(self) -> List[Path]:
        """The spooled files, oldest first (temporary files are not listed)."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        return sorted(
            self.directory / name for name in names
            if name.endswith(SUFFIX) and not name.startswith(".")
        )

    def count(self) -> int:
        return len(self.pending())

    def failed(self) -> List[Path]:
        try:
            return sorted(p for p in self.failed_directory.iterdir() if p.name.endswith(SUFFIX))
        except FileNotFoundError:
            return []

    @staticmethod
    def read(path: Union[str, Path]) -> SpooledSubmission:
        return _decode(Path(path).read_bytes())

    # ------------------------------------------------------------------ replay
    def _move_to_failed(self, path: Path, reason: str) -> None:
        self._ensure_dir(self.failed_directory)
        os.replace(path, self.failed_directory / path.name)
        _fsync_dir(self.directory)
        log.error("spooled lead submission %s refused for good (%s): moved to %s/",
                  path.stem, reason, FAILED_DIR)

    @staticmethod
    def _already_recorded(service: Any, item: SpooledSubmission) -> bool:
        """A consent proof from this conversation given since the file was spooled."""
        import sqlalchemy as sa

        from bot.leads.db import session_scope
        from bot.leads.models import ConsentProof

        sender_id = (item.submission.sender_id or "").strip()
        with session_scope(service.factory) as session:
            found = session.execute(
                sa.select(sa.func.count()).select_from(ConsentProof)
                .where(ConsentProof.sender_id == sender_id)
                .where(ConsentProof.given_at >= item.spooled_at)
            ).scalar_one()
        return found > 0

    def replay(self, service: Any) -> ReplayReport:
        """Write every spooled submission through ``service`` (a ``LeadService``), oldest
        first. Stops at the first database outage (the rest stays, counted as waiting)."""
        report = ReplayReport()
        files = self.pending()
        for index, path in enumerate(files):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # done by another replayer meanwhile
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # another replayer holds it right now
                try:
                    current = os.stat(path)
                except FileNotFoundError:
                    continue
                mine = os.fstat(fd)
                if mine.st_nlink == 0 or (mine.st_ino, mine.st_dev) != (current.st_ino, current.st_dev):
                    continue
                outcome = self._replay_one(service, path, fd)
            finally:
                os.close(fd)  # releases the lock
            if outcome == "outage":
                report.waiting = len(files) - index
                break
            if outcome == "failed":
                report.failed += 1
            elif outcome == "skipped":
                report.skipped += 1
            else:
                report.written.append(outcome)
        if not report.empty:
            log.info(
                "spool replay: %d written, %d already recorded, %d waiting, %d failed",
                len(report.written), report.skipped, report.waiting, report.failed,
            )
        return report

    def _replay_one(self, service: Any, path: Path, fd: int) -> Union[int, str]:
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        try:
            item = _decode(b"".join(chunks))
        except Exception as exc:  # noqa: BLE001 - unreadable: keep it aside, do not block
            self._move_to_failed(path, f"unreadable: {type(exc).__name__}")
            return "failed"
        try:
            if self._already_recorded(service, item):
                path.unlink(missing_ok=True)
                _fsync_dir(self.directory)
                log.info("spooled lead submission %s already recorded: removed", item.id)
                return "skipped"
            lead_id = service.submit(item.submission, submitted_at=item.spooled_at)
        except Exception as exc:  # noqa: BLE001
            if is_database_outage(exc):
                log.info("leads database still unavailable (%s): %s stays in the spool",
                         type(exc).__name__, item.id)
                return "outage"
            self._move_to_failed(path, type(exc).__name__)
            return "failed"
        # Committed: only now may the file go.
        path.unlink(missing_ok=True)
        _fsync_dir(self.directory)
        log.info("spooled lead submission %s written as lead %d", item.id, lead_id)
        return lead_id

    # ------------------------------------------------------------------ erasure
    def erase(self, email: Optional[str] = None, sender_id: Optional[str] = None) -> int:
        """Delete the spooled (and failed) submissions of a visitor: right to erasure, for
        the requests that never reached the database. Returns the number of files deleted."""
        email_key = email.strip().lower() if email else None
        deleted = 0
        for path in self.pending() + self.failed():
            try:
                item = self.read(path)
            except FileNotFoundError:
                continue
            except Exception:  # noqa: BLE001 - unreadable: cannot tell whose it is
                continue
            sub = item.submission
            if (email_key and (sub.email or "").strip().lower() == email_key) or (
                sender_id and sub.sender_id == sender_id
            ):
                path.unlink(missing_ok=True)
                deleted += 1
        if deleted:
            log.info("erased %d spooled lead submission(s)", deleted)
        return deleted


# ---------------------------------------------------------------------- the action's fallback
_replayer_lock = threading.Lock()
_replayer: Optional[threading.Thread] = None


def replay_in_background(
    service: Callable[[], Any], spool: Optional[LeadSpool] = None, interval: Optional[float] = None,
) -> bool:
    """Start, unless one is already running in this process, a daemon thread that replays
    the spool every ``interval`` seconds until it is empty. ``service`` returns the
    ``LeadService`` to write with. Returns True when a thread was started."""
    global _replayer
    spool = spool or LeadSpool.from_env()
    interval = retry_seconds() if interval is None else interval

    def run() -> None:
        global _replayer
        stop = threading.Event()
        while True:
            stop.wait(interval)
            try:
                spool.replay(service())
            except Exception:  # noqa: BLE001 - never let the thread die on an outage
                log.exception("spool replay failed; next attempt in %g s", interval)
            with _replayer_lock:
                if spool.count() == 0:
                    _replayer = None
                    return

    with _replayer_lock:
        if _replayer is not None and _replayer.is_alive():
            return False
        _replayer = threading.Thread(target=run, name="lead-spool-replay", daemon=True)
        _replayer.start()
        return True


def spool_after_outage(
    error: BaseException,
    submission: Any,
    service: Callable[[], Any],
    spool: Optional[LeadSpool] = None,
) -> bool:
    """What ``ActionSubmitLead`` does when ``LeadService.submit`` raised ``error``.

    Returns True when the leads database is down and the submission is now safely in the
    spool (a background replay is scheduled): the visitor may be told the request is
    recorded. Returns False otherwise (not an outage, or the spool could not be written):
    nothing was kept, the visitor should be given the phone number instead."""
    if not is_database_outage(error):
        return False
    spool = spool or LeadSpool.from_env()
    try:
        spool.put(submission)
    except OSError as exc:
        log.error("leads database down and the spool %s is not writable (%s)",
                  spool.directory, type(exc).__name__)
        return False
    try:
        replay_in_background(service, spool)
    except Exception:  # noqa: BLE001 - the worker and `sip-coach spool replay` remain
        log.exception("could not start the background spool replay")
    return True
