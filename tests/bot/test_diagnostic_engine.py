"""The diagnostic engine: verdicts grounded in the text, a monotonic score, the widget payload."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.typography import french_spacing
from bot.diagnostic import (
    ANSWER_KEYS,
    ANSWER_RANK,
    ANSWERS,
    CRITERIA,
    EXTRAS,
    PILLARS,
    RELATIONSHIPS,
    VERDICTS,
    WEIGHTS,
    evaluate,
    load_questionnaire,
)

Q = load_questionnaire()
ALL_YES = {key: "yes" for key in ANSWER_KEYS}
PHONE, SITE = "06 34 22 31 71", "www.salesinprogress.com"


def answers(**overrides):
    return {**ALL_YES, **overrides}


# (id, relationship, answers, verdict, missing_criteria, missing_pillars, phrases the message must hold)
VERDICT_TABLE = [
    ("client", "client", ALL_YES, "not_a_partnership", [], [],
     ["dictionnaire", "un client", "contre paiement", "pas un partenariat",
      "« une personne à qui on est associé, en relation dans une entreprise »"]),
    ("supplier", "supplier", ALL_YES, "not_a_partnership", [], [],
     ["un fournisseur", "fournit habituellement une marchandise ou un service", "pas un partenariat"]),
    ("client-nothing-known", "client", {}, "not_a_partnership", list(CRITERIA), list(PILLARS),
     ["un client"]),
    ("one-point-missing", "partnership", answers(autonomy="no"), "mandatory_points_missing", ["autonomy"], [],
     ["points obligatoires", "« des intervenants autonomes »", "pas encore un vrai partenariat"]),
    ("points-and-legs-missing", "partnership", answers(common_goal="partly", shared_desire="no", contract="unknown"),
     "mandatory_points_missing", ["common_goal"], ["shared_desire", "contract"],
     ["« un objectif commun, un besoin identifié » (à consolider)", "Côté table",
      "« la même envie » et « le contrat » (à vérifier)"]),
    ("nothing-known", "partnership", {}, "mandatory_points_missing", list(CRITERIA), list(PILLARS),
     ["« des intervenants autonomes » (à vérifier)"]),
    ("one-leg-missing", "partnership", answers(contract="partly"), "wobbly", [], ["contract"],
     ["bancale", "« le contrat » (à consolider)", "quatre pieds d’une table", "on finit par tomber"]),
    ("three-legs-missing", "partnership", answers(shared_desire="no", common_project="unknown", balance="no"),
     "wobbly", [], ["shared_desire", "common_project", "balance"],
     ["« la même envie », « un projet commun » (à vérifier) et « une relation équilibrée »"]),
    ("legs-and-piloting-missing", "partnership", answers(balance="no", piloting="no"), "wobbly", [], ["balance"],
     ["« une relation équilibrée »", "Il restera aussi à travailler « le pilotage dans la durée »"]),
    ("no-piloting", "partnership", answers(piloting="no"), "not_sufficient", [], [],
     ["indispensables, pas suffisants", "« le pilotage dans la durée »"]),
    ("partner-chosen-by-chance", "partnership", answers(partner_choice="partly"), "not_sufficient", [], [],
     ["« le choix du partenaire » (à consolider)"]),
    ("neither-choice-nor-piloting", "partnership", answers(partner_choice="no", piloting="unknown"), "not_sufficient",
     [], [], ["« le choix du partenaire » et « le pilotage dans la durée » (à vérifier)"]),
    ("all-present", "partnership", ALL_YES, "solid", [], [],
     ["base solide", "s’inscrit dans la durée", "pilote"]),
    ("all-present-relationship-unclear", "unclear", ALL_YES, "solid", [], [], ["base solide"]),
    ("unclear-with-missing-point", "unclear", answers(own_missions="no"), "mandatory_points_missing",
     ["own_missions"], [], ["« des missions propres à chacun »"]),
]


@pytest.mark.parametrize(
    "relationship, given_answers, verdict, missing_criteria, missing_pillars, phrases",
    [row[1:] for row in VERDICT_TABLE], ids=[row[0] for row in VERDICT_TABLE],
)
def test_verdicts(relationship, given_answers, verdict, missing_criteria, missing_pillars, phrases):
    result = evaluate(relationship, given_answers)
    assert result.verdict == verdict
    assert result.verdict_label == Q.verdicts[verdict].label
    assert result.missing_criteria == missing_criteria
    assert result.missing_pillars == missing_pillars
    for phrase in phrases:
        assert french_spacing(phrase) in result.message
    # Every message gives the next steps, then offers Sales In Progress's help.
    assert Q.next_steps_intro in result.message
    for number, step in enumerate(result.advice[:3], 1):
        assert f"{number}) {step}" in result.message
    assert result.message.endswith(Q.closing)
    assert PHONE in result.message and SITE in result.message


def test_every_verdict_is_reachable():
    reached = {evaluate(row[1], row[2]).verdict for row in VERDICT_TABLE}
    assert reached == set(VERDICTS)


def test_client_advice_is_about_words_not_table_legs():
    result = evaluate("client", {"balance": "no"})
    assert result.advice == list(Q.relationships["client"].advice)
    assert result.advice[0].startswith("Appelez un client un client")
    assert "cinq points obligatoires" in result.advice[1]


def test_supplier_advice():
    assert evaluate("supplier", ALL_YES).advice[0].startswith("Appelez un fournisseur un fournisseur")


def test_advice_follows_the_text_order_absent_before_uncertain():
    result = evaluate("partnership", answers(autonomy="partly", common_goal="no", own_missions="unknown",
                                             balance="no", piloting="partly"))
    assert result.advice == [
        Q.advice["common_goal"],  # absent
        Q.advice["own_missions"],  # not known
        Q.advice["autonomy"],  # partial
        Q.advice["balance"],  # then the legs
        Q.advice["piloting"],  # then the rest
    ]


def test_unclear_relationship_is_clarified_first():
    result = evaluate("unclear", answers(contract="no"))
    assert result.advice[0] == Q.relationships["unclear"].advice[0]
    assert result.advice[1] == Q.advice["contract"]


def test_solid_base_still_needs_piloting():
    result = evaluate("partnership", ALL_YES)
    assert result.advice == list(Q.solid_advice)
    assert "Pilotez" in result.advice[0]
    assert result.score == 100


def test_next_steps_are_at_most_three():
    result = evaluate("partnership", {key: "no" for key in ANSWER_KEYS})
    assert len(result.advice) == 11
    assert result.advice[3] not in result.message


@pytest.mark.parametrize(
    "relationship, given_answers, expected",
    [
        ("partnership", ALL_YES, 100),
        ("unclear", ALL_YES, 95),
        ("client", ALL_YES, 40),  # capped: not a partnership, however good the rest
        ("supplier", {key: "no" for key in ANSWER_KEYS}, 0),
        ("partnership", {key: "no" for key in ANSWER_KEYS}, 10),
        ("partnership", {}, 33),  # 10 + 90 / 4 = 32.5, rounded half up
        ("partnership", {key: "partly" for key in ANSWER_KEYS}, 55),
        ("partnership", answers(contract="partly"), 97),
        ("partnership", answers(autonomy="no"), 90),
    ],
)
def test_score_examples(relationship, given_answers, expected):
    assert evaluate(relationship, given_answers).score == expected


def test_weights_add_up_to_100_and_follow_the_text():
    assert sum(WEIGHTS.values()) == 100
    assert all(WEIGHTS[c] >= WEIGHTS[p] for c in CRITERIA for p in PILLARS)  # the definition first
    assert WEIGHTS["contract"] < WEIGHTS["balance"]  # "on pourra peaufiner avec un quatrième"


def test_missing_or_none_answers_are_unknown():
    result = evaluate("partnership", {"autonomy": None, "contract": "yes"})
    assert result.answers["autonomy"] == "unknown"
    assert result.answers["piloting"] == "unknown"
    assert result.answers["contract"] == "yes"
    assert evaluate(None).relationship == "unclear"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"relationship": "friend"}, "unknown relationship 'friend'"),
        ({"relationship": "partnership", "answers": {"autonomy": "maybe"}}, "answer to 'autonomy' is 'maybe'"),
        ({"relationship": "partnership", "answers": {"legs": "yes"}}, "unknown answer key(s) legs"),
        ({"relationship": "partnership", "answers": {"relationship": "client"}}, "unknown answer key(s) relationship"),
    ],
)
def test_bad_input_is_a_loud_error(kwargs, message):
    with pytest.raises(ValueError) as caught:
        evaluate(**kwargs)
    assert message in str(caught.value)


def test_payload_shape_for_the_widget():
    result = evaluate("partnership", answers(balance="partly", piloting="no"))
    payload = result.to_payload()
    assert set(payload) == {"type", "verdict", "verdict_label", "score", "relationship", "criteria", "pillars",
                            "extras", "missing_criteria", "missing_pillars"}
    assert payload["type"] == "diagnostic"
    assert payload["verdict"] == "wobbly" and payload["verdict_label"] == "Une table bancale"
    assert payload["relationship"] == "partnership"
    assert [item["key"] for item in payload["criteria"]] == list(CRITERIA)
    assert [item["key"] for item in payload["pillars"]] == list(PILLARS)
    assert [item["key"] for item in payload["extras"]] == list(EXTRAS)
    balance = payload["pillars"][2]
    assert balance == {"key": "balance", "label": "Une relation équilibrée", "answer": "partly", "score": 0.5}
    for item in payload["criteria"] + payload["pillars"] + payload["extras"]:
        assert set(item) == {"key", "label", "answer", "score"}
        assert 0 <= item["score"] <= 1
    assert payload["missing_pillars"] == ["balance"] and payload["missing_criteria"] == []
    assert json.loads(json.dumps(payload)) == payload


def test_item_scores_follow_the_answer_order():
    result = evaluate("partnership", answers(autonomy="no", pooled_efforts="unknown", common_goal="partly"))
    assert [item["score"] for item in result.to_payload()["criteria"]] == [0.0, 0.25, 0.5, 1.0, 1.0]


def test_snapshot_for_the_leads_database():
    result = evaluate("client", {"autonomy": "yes"})
    snapshot = result.to_dict()
    assert set(snapshot) == {"relationship", "answers", "verdict", "score", "missing_criteria", "missing_pillars",
                             "advice", "advice_shown"}
    assert snapshot["relationship"] == "client"
    assert snapshot["answers"]["autonomy"] == "yes" and len(snapshot["answers"]) == 11
    assert snapshot["verdict"] == "not_a_partnership"
    assert json.loads(json.dumps(snapshot)) == snapshot


def test_the_snapshot_records_the_advice_the_visitor_was_shown():
    # Everything missing: eleven pieces of advice, the verdict quotes the first three only.
    result = evaluate("partnership", {key: "no" for key in ANSWER_KEYS})
    snapshot = result.to_dict()
    assert len(snapshot["advice"]) == 11
    assert snapshot["advice_shown"] == snapshot["advice"][:3] == result.next_steps
    for step in snapshot["advice_shown"]:
        assert french_spacing(step) in result.message
    assert not any(french_spacing(a) in result.message for a in snapshot["advice"][3:])


def test_result_does_not_share_mutable_state():
    first = evaluate("partnership", answers(contract="no"))
    first.to_dict()["missing_pillars"].append("balance")
    first.to_payload()["missing_pillars"].append("balance")
    assert first.missing_pillars == ["contract"]
    assert evaluate("partnership", answers(contract="no")).missing_pillars == ["contract"]


# ---------------------------------------------------------------- properties

answer_sets = st.fixed_dictionaries({key: st.sampled_from(ANSWERS) for key in ANSWER_KEYS})
relationships = st.sampled_from(RELATIONSHIPS)


@given(relationship=relationships, given_answers=answer_sets)
def test_score_is_between_0_and_100_and_verdict_matches_missing(relationship, given_answers):
    result = evaluate(relationship, given_answers)
    assert 0 <= result.score <= 100
    assert result.missing_criteria == [k for k in CRITERIA if given_answers[k] != "yes"]
    assert result.missing_pillars == [k for k in PILLARS if given_answers[k] != "yes"]
    assert result.verdict in VERDICTS
    assert (result.verdict == "not_a_partnership") == (relationship in ("client", "supplier"))
    assert result.advice and PHONE in result.message


@given(
    relationship=relationships,
    given_answers=answer_sets,
    key=st.sampled_from(ANSWER_KEYS),
    better=st.sampled_from(ANSWERS),
)
def test_improving_one_answer_never_lowers_the_score(relationship, given_answers, key, better):
    if ANSWER_RANK[better] <= ANSWER_RANK[given_answers[key]]:
        better = "yes"  # still an improvement, or the same answer
    before = evaluate(relationship, given_answers).score
    after = evaluate(relationship, {**given_answers, key: better}).score
    assert after >= before


@given(relationship=st.sampled_from(["client", "supplier", "unclear"]), given_answers=answer_sets)
def test_becoming_a_partnership_never_lowers_the_score(relationship, given_answers):
    assert evaluate("partnership", given_answers).score >= evaluate(relationship, given_answers).score


@given(given_answers=answer_sets)
def test_unclear_relationship_scores_at_least_as_much_as_trade(given_answers):
    # The issue orders unclear/client/supplier equally; the cap makes trade never score above unclear.
    assert evaluate("unclear", given_answers).score >= evaluate("client", given_answers).score


def test_the_visitors_own_words_on_the_first_missing_point_lead_into_the_advice():
    words = {"balance": "c'est toujours eux qui tranchent", "contract": "rien de signé"}
    result = evaluate("partnership", {**ALL_YES, "balance": "no", "contract": "no"}, words=words)
    verdict, advice, _ = result.messages
    assert "vous me l’avez dit" not in verdict
    assert advice.startswith(french_spacing("Sur « une relation équilibrée », vous me l’avez dit vous-même : "
                                            "« c’est toujours eux qui tranchent »."))
    assert "rien de signé" not in result.message  # one quote, the first missing point's
    assert Q.next_steps_intro in advice


@pytest.mark.parametrize("answers, words", [
    ({**ALL_YES}, {"balance": "on décide tout à deux"}),  # nothing missing: nothing to quote
    ({**ALL_YES, "balance": "unknown"}, {"balance": "aucune idée"}),  # a doubt is not quoted
    ({**ALL_YES, "balance": "no"}, {}),  # a button clicked: no words
    ({**ALL_YES, "balance": "no"}, {"balance": "non " * 80}),  # too long to read back
])
def test_no_quote_without_words_worth_reading_back(answers, words):
    assert "vous me l’avez dit" not in evaluate("partnership", answers, words=words).message
