"""Lead qualification: ``hot | warm | cold`` and a score from 0 to 100.

The score tells a consultant how promising a call back is. It adds four parts, computed
from the diagnostic snapshot (``DiagnosticResult.to_dict()``) and the need the visitor
stated in their own words:

====================  ====  ==============================================================
part                  max   how
====================  ====  ==============================================================
a real project         30   relationship described: partnership 30, unclear 15,
                            client or supplier 5, no diagnostic 0
engagement             20   share of the 11 diagnostic questions answered (five points,
                            four pillars, partner choice, piloting; "unknown" = not
                            answered) x 20, rounded
gaps we can fill       30   6 per missing pillar (a table with a missing leg falls;
                            a pillar answered "unknown" is not counted here),
                            + 3 if partner choice is "no"/"partly",
                            + 3 if piloting is "no"/"partly": exactly what Sales In
                            Progress helps with (choose, build, pilot)
stated need            20   a real need written (not "non", "rien"...) 8,
                            + 6 if it asks for help or for what we do (accompagnement,
                            conseil, rendez-vous, choisir un partenaire, piloter...),
                            + 6 if it is urgent (urgent, rapidement, dès que possible,
                            ce mois...)
====================  ====  ==============================================================

Label: **hot** from 65, **warm** from 35, **cold** below. One floor: an *urgent* stated
need makes the lead at least **warm**, even without a diagnostic (someone who asks to be
called back quickly must not sink at the bottom of the list).

The keyword lists and weights below are data; ``docs/leads.md`` and the tests
(``tests/leads/test_qualification.py``) follow this table.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional

CRITERIA = ("autonomy", "pooled_efforts", "common_goal", "own_missions", "shared_stakes")
PILLARS = ("shared_desire", "common_project", "balance", "contract")
BEYOND = ("partner_choice", "piloting")
ALL_QUESTIONS = CRITERIA + PILLARS + BEYOND

RELATIONSHIP_POINTS = {"partnership": 30, "unclear": 15, "client": 5, "supplier": 5}
ENGAGEMENT_MAX = 20
POINTS_PER_MISSING_PILLAR = 6
POINTS_PER_BEYOND_GAP = 3  # partner choice, piloting
GAP_ANSWERS = ("no", "partly")
NEED_STATED = 8
NEED_ASKS_HELP = 6
NEED_URGENT = 6

HOT_FROM = 65
WARM_FROM = 35

# Accent-free, lower-case prefixes matched at the start of a word.
NO_NEED = (
    "non", "rien", "aucun", "aucune", "pas de besoin", "pas vraiment", "je ne sais pas",
    "nsp", "-", "/", "ras", "none", "n/a",
)
HELP_WORDS = (
    "accompagn", "aide", "aider", "conseil", "rendez-vous", "rendez vous", "rdv", "rappel",
    "appel", "echanger", "devis", "choisir", "choix du partenaire", "trouver un partenaire",
    "piloter", "pilotage", "construire", "structurer", "contrat", "formation", "coach",
)
URGENT_WORDS = (
    "urgent", "urgence", "rapidement", "vite", "au plus tot", "des que possible", "asap",
    "cette semaine", "semaine prochaine", "ce mois", "immediat", "tout de suite",
    "deadline", "echeance", "sous peu", "maintenant", "prochains jours",
)

# Removed before looking for urgency ("pas urgent" is not urgent).
NOT_URGENT = ("pas urgent", "pas d urgence", "rien d urgent", "sans urgence", "pas presse")

LABELS_FR = {"hot": "chaud", "warm": "tiède", "cold": "froid"}


@dataclass(frozen=True)
class Qualification:
    label: str  # hot | warm | cold
    score: int  # 0..100
    reasons: List[str] = field(default_factory=list)  # French, for the consultant

    @property
    def label_fr(self) -> str:
        return LABELS_FR[self.label]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[\s’']+", " ", text).strip()


def _has_any(text: str, words) -> bool:
    return any(re.search(r"(?<![a-z0-9])" + re.escape(w), text) for w in words)


def stated_need_points(need: Optional[str]) -> tuple:
    """(points, reasons) for the visitor's own words about their need."""
    folded = _fold(need or "").strip(" .!?")
    if len(folded) < 2 or folded in NO_NEED:
        return 0, []
    points, reasons = NEED_STATED, ["besoin exprimé"]
    if _has_any(folded, HELP_WORDS):
        points += NEED_ASKS_HELP
        reasons.append("demande d’aide ou de rendez-vous")
    if is_urgent(folded):
        points += NEED_URGENT
        reasons.append("urgence exprimée")
    return points, reasons


def is_urgent(need: Optional[str]) -> bool:
    folded = _fold(need or "")
    for phrase in NOT_URGENT:
        folded = folded.replace(phrase, " ")
    return _has_any(folded, URGENT_WORDS)


def _missing_pillars(diagnostic: Mapping[str, Any]) -> List[str]:
    """Pillars known to be missing: in the snapshot's list (or answered no/partly when there
    is no list), except those answered "unknown" (not knowing already costs engagement)."""
    answers = diagnostic.get("answers") or {}
    if diagnostic.get("missing_pillars") is not None:
        listed = [p for p in diagnostic["missing_pillars"] if p in PILLARS]
        return [p for p in listed if answers.get(p) != "unknown"]
    return [p for p in PILLARS if answers.get(p) in GAP_ANSWERS]


def qualify(diagnostic: Optional[Mapping[str, Any]], need: Optional[str] = None,
            booked: bool = False) -> Qualification:
    """Qualify a lead from its diagnostic snapshot (or None) and stated need (or None). A
    visitor who booked a meeting is « hot » whatever the score: they asked to meet."""
    score = 0
    reasons: List[str] = []
    if diagnostic:
        relationship = diagnostic.get("relationship") or "unclear"
        points = RELATIONSHIP_POINTS.get(relationship, RELATIONSHIP_POINTS["unclear"])
        score += points
        reasons.append(
            {
                "partnership": "projet de partenariat réel",
                "client": "relation décrite : client (pas un partenariat)",
                "supplier": "relation décrite : fournisseur (pas un partenariat)",
            }.get(relationship, "nature de la relation à clarifier")
        )
        answers = diagnostic.get("answers") or {}
        answered = sum(
            1 for key in ALL_QUESTIONS if answers.get(key) not in (None, "", "unknown")
        )
        score += round(ENGAGEMENT_MAX * answered / len(ALL_QUESTIONS))
        reasons.append(f"{answered}/{len(ALL_QUESTIONS)} questions du diagnostic renseignées")
        missing = _missing_pillars(diagnostic)
        gap = POINTS_PER_MISSING_PILLAR * len(missing)
        if missing:
            reasons.append(f"{len(missing)} pilier(s) manquant(s)")
        for key, label in (("partner_choice", "choix du partenaire"), ("piloting", "pilotage")):
            if answers.get(key) in GAP_ANSWERS:
                gap += POINTS_PER_BEYOND_GAP
                reasons.append(f"{label} à travailler")
        score += gap
    else:
        reasons.append("pas de diagnostic")
    need_points, need_reasons = stated_need_points(need)
    score += need_points
    reasons.extend(need_reasons)
    score = max(0, min(100, int(score)))
    if score >= HOT_FROM:
        label = "hot"
    elif score >= WARM_FROM:
        label = "warm"
    else:
        label = "cold"
    if label == "cold" and is_urgent(need):
        label = "warm"
        reasons.append("au moins tiède : demande urgente")
    if booked:
        label = "hot"
        reasons.append("chaud : rendez-vous réservé")
    return Qualification(label=label, score=score, reasons=reasons)
