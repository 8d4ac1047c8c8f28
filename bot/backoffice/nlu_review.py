"""From missed messages to training data: a consultant assigns a group of messages to a topic
of the text (or « hors sujet »); :func:`write_reviewed_file` (``sip-coach nlu review`` and the
page's button) writes every assigned phrasing into ``data/nlu/reviewed.yml``, a Rasa NLU file
that ``make test-data`` checks like the others and the next ``make train`` learns from.

Kept out of the file, and said so: a phrasing that repeats a training example (the model knows
it already), a held-out or blind test message (they measure understanding of text the model
never saw: training on them would make the measure meaningless), and any message with personal
data (never stored here in the first place: :mod:`bot.backoffice.unanswered`).
"""
from __future__ import annotations

import hashlib
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from bot.backoffice.models import ReviewedPhrasing
from bot.backoffice.unanswered import has_personal_data, normalise
from bot.leads.models import utcnow
from bot.paths import PROJECT_ROOT

# Beyond the text's topics (the direct answers of bot/knowledge/content.yml, intent ask_<key>).
EXTRA_TOPICS = (
    ("start_diagnostic", "Évaluer son projet (le diagnostic)"),
    ("book_meeting", "Prendre rendez-vous"),
    ("request_contact", "Être rappelé"),
    ("out_of_scope", "Hors sujet"),
)
HEADER = """\
# Phrasings of real visitors the bot missed, assigned to a topic by a consultant in the back
# office and written by `sip-coach nlu review` (bot/backoffice/nlu_review.py). Checked by
# `make test-data` like every NLU file; the next `make train` learns from them.
# Edit in the back office rather than here: the next review rewrites this file.
"""


class ReviewError(ValueError):
    """Refused, said in French."""


def topics() -> List[Tuple[str, str]]:
    from bot.knowledge import load_knowledge

    knowledge = load_knowledge()
    listed = [(f"ask_{key}", topic.title) for key, topic in knowledge.topics.items()]
    return listed + list(EXTRA_TOPICS)


def topic_names() -> Dict[str, str]:
    return dict(topics())


def text_digest(text: str) -> str:
    """The key of a phrasing: its normalised form (case, accents, punctuation), hashed so the
    unique index stays small whatever the message's length."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def assign(session: Session, texts: Iterable[str], intent: str, actor: str) -> int:
    """Record these phrasings under ``intent``; returns how many were new. A phrasing already
    assigned is moved to the new intent (the latest consultant's decision wins)."""
    if intent not in topic_names():
        raise ReviewError("sujet inconnu")
    count = 0
    for text in texts:
        text = " ".join(text.split())[:2000]
        if not text or has_personal_data(text):
            continue
        digest = text_digest(text)
        row = session.execute(
            sa.select(ReviewedPhrasing).where(ReviewedPhrasing.text_sha256 == digest)
        ).scalar_one_or_none()
        if row is None:
            session.add(ReviewedPhrasing(text=text, text_sha256=digest, intent=intent,
                                         assigned_by=actor[:64], assigned_at=utcnow()))
            count += 1
        elif row.intent != intent:
            row.intent, row.assigned_by, row.assigned_at, row.exported_at = intent, actor[:64], utcnow(), None
            count += 1
    session.flush()
    return count


def pending_count(session: Session) -> int:
    """Phrasings assigned since the data file was last written."""
    return session.execute(
        sa.select(sa.func.count()).select_from(ReviewedPhrasing).where(ReviewedPhrasing.exported_at.is_(None))
    ).scalar_one()


def assigned_texts(session: Session) -> Dict[str, str]:
    rows = session.execute(sa.select(ReviewedPhrasing.text, ReviewedPhrasing.intent)).all()
    return {normalise(text): intent for text, intent in rows}


# ------------------------------------------------------------------------ the data file
def _examples_of(path: Path) -> Iterable[str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return
    if "items" in data:  # a blind evaluation set (tests/blind/)
        for item in data.get("items") or []:
            message = item.get("message") or item.get("text") if isinstance(item, dict) else None
            if message:
                yield str(message)
        return
    for block in data.get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield line[2:]


def known_phrasings(reviewed_path: Path, root: Path = PROJECT_ROOT) -> Dict[str, str]:
    """Normalised phrasing → why it cannot go into the reviewed file."""
    known: Dict[str, str] = {}
    for path in sorted((root / "data" / "nlu").glob("*.yml")):
        if path.resolve() != reviewed_path.resolve():
            known.update((normalise(t), "déjà dans les données d’entraînement") for t in _examples_of(path))
    for path in [root / "tests" / "nlu" / "holdout.yml", *sorted((root / "tests" / "blind").glob("*.yml"))]:
        known.update((normalise(t), "message d’un jeu de test") for t in _examples_of(path))
    return known


@dataclass
class ReviewReport:
    path: Path
    written: Dict[str, List[str]] = field(default_factory=dict)
    skipped: List[Tuple[str, str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.written.values())


# Rasa reads « [texte](entité) » and « [texte]{…} » as entity annotations: a visitor's bracket
# would turn into an undeclared entity, or vanish. Such messages are left out, and said so.
_ANNOTATION = re.compile(r"[\[\]{}]")


def printable(text: str) -> str:
    """The text without control, surrogate or unassigned characters (YAML refuses some)."""
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn"))


def render(written: Dict[str, List[str]]) -> str:
    blocks = []
    for intent in sorted(written):
        lines = "".join(f"    - {text}\n" for text in written[intent])
        blocks.append(f"- intent: {intent}\n  examples: |\n{lines}")
    return HEADER + 'version: "3.1"\nnlu:\n' + "".join(blocks)


def write_reviewed_file(session: Session, path: Path, root: Path = PROJECT_ROOT) -> ReviewReport:
    """Write every assigned phrasing into ``path`` (rewritten whole, sorted: a stable diff)."""
    report = ReviewReport(path)
    known = known_phrasings(path, root)
    rows = session.execute(sa.select(ReviewedPhrasing).order_by(ReviewedPhrasing.id)).scalars().all()
    seen = set()
    for row in rows:
        key = normalise(row.text)
        if key in seen:
            continue
        seen.add(key)
        if key in known:
            report.skipped.append((row.text, known[key]))
            continue
        text = " ".join(printable(row.text).split())  # one line of a YAML block scalar
        if _ANNOTATION.search(text):
            report.skipped.append((row.text, "crochets ou accolades, que Rasa lirait comme une annotation"))
        elif text:
            report.written.setdefault(row.intent, []).append(text)
    for texts in report.written.values():
        texts.sort(key=normalise)
    if report.written:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside, then renamed: a reader (or a second export) never sees half a file.
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".tmp",
                                         delete=False) as handle:
            handle.write(render(report.written))
        Path(handle.name).replace(path)
    elif path.exists():
        path.unlink()  # nothing left to learn: no empty NLU file for Rasa to trip on
    now = utcnow()
    for row in rows:
        row.exported_at = now
    session.flush()
    return report
