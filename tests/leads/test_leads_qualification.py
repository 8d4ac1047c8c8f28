"""The qualification rule of bot/leads/qualification.py (and docs/leads.md), case by case."""
import pytest

from bot.leads.qualification import qualify

ALL_YES = {k: "yes" for k in (
    "autonomy", "pooled_efforts", "common_goal", "own_missions", "shared_stakes",
    "shared_desire", "common_project", "balance", "contract", "partner_choice", "piloting")}


def snap(relationship="partnership", missing_pillars=(), **answers):
    merged = dict(ALL_YES, **answers)
    return {
        "relationship": relationship, "answers": merged, "verdict": "…", "score": 50,
        "missing_criteria": [], "missing_pillars": list(missing_pillars), "advice": [],
    }


URGENT_HELP = "Nous voulons être accompagnés rapidement pour piloter ce partenariat"

# (diagnostic, need, expected label, expected score)
CASES = [
    # nothing at all
    (None, None, "cold", 0),
    (None, "non", "cold", 0),
    # an urgent request without diagnostic: 8 + 6 + 6 = 20, floor -> warm
    (None, URGENT_HELP, "warm", 20),
    (None, "Je voudrais un rendez-vous", "cold", 14),
    # a solid partnership, fully answered, no gap, no need: 30 + 20 = 50
    (snap(), None, "warm", 50),
    # the same with a help request: 50 + 8 + 6 = 64, just under hot
    (snap(), "Un conseil sur notre contrat", "warm", 64),
    # two legs missing, one of them "unknown" (10/11 answered, not counted as a gap),
    # partner choice "no", piloting "partly", urgent help: 30 + 18 + 6 + 3 + 3 + 20
    (snap(missing_pillars=["balance", "contract"], balance="no", contract="unknown",
          partner_choice="no", piloting="partly"), URGENT_HELP, "hot", 80),
    # the same, every pillar known: 30 + 20 + 12 + 3 + 3 + 20
    (snap(missing_pillars=["balance", "contract"], balance="no", contract="partly",
          partner_choice="no", piloting="partly"), URGENT_HELP, "hot", 88),
    # bot.diagnostic lists every non-"yes" answer as missing: a barely answered
    # diagnostic is not a pile of gaps. 30 + round(20*3/11)=5 + 6 (balance) + 3 + 20
    ({"relationship": "partnership",
      "answers": {**{k: "unknown" for k in ALL_YES}, "autonomy": "yes", "balance": "no",
                  "partner_choice": "partly"},
      "missing_pillars": ["shared_desire", "common_project", "balance", "contract"]},
     URGENT_HELP, "warm", 64),
    # same gaps, no need: 30 + 20 + 18 = 68
    (snap(missing_pillars=["balance", "contract"], partner_choice="no", piloting="partly"),
     None, "hot", 68),
    # a client relationship called partnership, all answered, no gap: 5 + 20 = 25
    (snap("client"), None, "cold", 25),
    (snap("supplier", missing_pillars=["shared_desire"]), "", "cold", 31),
    # unclear relationship, nothing answered: 15 + 0 + (no gaps listed)
    ({"relationship": "unclear", "answers": {}, "missing_pillars": []}, None, "cold", 15),
    # all four legs missing on a partnership: 30 + 20 + 24 = 74
    (snap(missing_pillars=["shared_desire", "common_project", "balance", "contract"]), None,
     "hot", 74),
    # "pas urgent" is not urgent: 8 only
    (None, "Pas urgent, juste une question", "cold", 8),
]


@pytest.mark.parametrize("diagnostic, need, label, score", CASES)
def test_qualification_table(diagnostic, need, label, score):
    result = qualify(diagnostic, need)
    assert (result.label, result.score) == (label, score), result.reasons


def test_missing_pillars_derived_from_answers_when_not_listed():
    data = snap()
    del data["missing_pillars"]
    data["answers"]["balance"] = "no"
    assert qualify(data).score == 56


def test_half_answered_counts_half_the_engagement():
    answers = {k: "unknown" for k in ALL_YES}
    answers.update(autonomy="yes", pooled_efforts="yes", common_goal="yes",
                   own_missions="yes", shared_stakes="yes", shared_desire="yes")
    data = {"relationship": "partnership", "answers": answers, "missing_pillars": []}
    assert qualify(data).score == 30 + round(20 * 6 / 11)


def test_reasons_are_french_and_labels_translate():
    result = qualify(snap(missing_pillars=["contract"]), URGENT_HELP)
    assert "projet de partenariat réel" in result.reasons
    assert "urgence exprimée" in result.reasons
    assert result.label_fr in ("chaud", "tiède", "froid")


def test_score_always_within_bounds():
    result = qualify(snap(missing_pillars=["shared_desire", "common_project", "balance", "contract"],
                          partner_choice="no", piloting="no"), URGENT_HELP)
    assert 0 <= result.score <= 100 and result.label == "hot"
