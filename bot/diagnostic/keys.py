"""The diagnostic's vocabulary: a contract shared with the Rasa side, the leads
database and the website widget (see docs/design.md). Extend, never rename."""

from __future__ import annotations

# Answers to a question, from best to worst as the visitor states them.
ANSWERS = ("yes", "partly", "no", "unknown")
# "unknown" ranks above "no": not knowing leaves a chance, a clear "no" does not.
ANSWER_RANK = {"no": 0, "unknown": 1, "partly": 2, "yes": 3}

RELATIONSHIPS = ("partnership", "client", "supplier", "unclear")
# What one side buys from the other: by the dictionary, not a partnership.
TRADE_RELATIONSHIPS = ("client", "supplier")

# The five mandatory points of the definition, in the text's order.
CRITERIA = ("autonomy", "pooled_efforts", "common_goal", "own_missions", "shared_stakes")
# The four pillars, the legs of the table.
PILLARS = ("shared_desire", "common_project", "balance", "contract")
# What the pillars do not say: how to choose the partner, and piloting.
EXTRAS = ("partner_choice", "piloting")

ANSWER_KEYS = CRITERIA + PILLARS + EXTRAS
QUESTION_KEYS = ("relationship",) + ANSWER_KEYS

KINDS = ("relationship", "criterion", "pillar", "extra")
KIND_OF = {
    "relationship": "relationship",
    **{key: "criterion" for key in CRITERIA},
    **{key: "pillar" for key in PILLARS},
    **{key: "extra" for key in EXTRAS},
}

# Checked in this order: the first that applies is the verdict.
VERDICTS = (
    "not_a_partnership",  # client or supplier: one side pays the other
    "mandatory_points_missing",  # one of the five points of the definition is not met
    "wobbly",  # a leg of the table is missing
    "not_sufficient",  # four legs, but partner choice or piloting missing
    "solid",  # everything there: now pilot it over time
)
