"""Marc's diagnostic: is the visitor's partnership one, and does its table stand?

The questions, explanations, verdict messages and advice are YAML data
(`questionnaire.yml`, `advice.yml`) that a consultant edits; `loader` validates
them, `engine` turns answers into a verdict, a score and advice. Plain Python:
the Rasa actions call this, never the other way round.
"""

from .engine import ANSWER_CREDIT, WEIGHTS, DiagnosticResult, evaluate, score
from .keys import (
    ANSWER_KEYS,
    ANSWER_RANK,
    ANSWERS,
    CRITERIA,
    EXTRAS,
    KINDS,
    PILLARS,
    QUESTION_KEYS,
    RELATIONSHIPS,
    TRADE_RELATIONSHIPS,
    VERDICTS,
)
from .loader import (
    DiagnosticDataError,
    Question,
    Questionnaire,
    QuickReply,
    RelationshipText,
    Verdict,
    clear_cache,
    load_questionnaire,
)

__all__ = [
    "ANSWER_CREDIT",
    "ANSWER_KEYS",
    "ANSWER_RANK",
    "ANSWERS",
    "CRITERIA",
    "EXTRAS",
    "KINDS",
    "PILLARS",
    "QUESTION_KEYS",
    "RELATIONSHIPS",
    "TRADE_RELATIONSHIPS",
    "VERDICTS",
    "WEIGHTS",
    "DiagnosticDataError",
    "DiagnosticResult",
    "Question",
    "Questionnaire",
    "QuickReply",
    "RelationshipText",
    "Verdict",
    "clear_cache",
    "evaluate",
    "load_questionnaire",
    "score",
]
