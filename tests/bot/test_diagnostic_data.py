"""The diagnostic's YAML data: complete, faithful to the text, and guarded against typos."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.diagnostic import (
    ANSWER_KEYS,
    ANSWERS,
    CRITERIA,
    EXTRAS,
    PILLARS,
    QUESTION_KEYS,
    RELATIONSHIPS,
    VERDICTS,
    DiagnosticDataError,
    load_questionnaire,
)
from bot.diagnostic.loader import ADVICE_FILE, DATA_DIR, QUESTIONNAIRE_FILE
from bot.typography import french_spacing

Q = load_questionnaire()


def marc_texts():
    """Everything Marc says from this data, with where it comes from."""
    for question in Q.questions:
        for name in ("label", "prompt", "rephrase", "why"):
            yield f"{question.key}.{name}", getattr(question, name)
    for verdict in Q.verdicts.values():
        yield f"verdicts.{verdict.key}.label", verdict.label
        yield f"verdicts.{verdict.key}.message", verdict.message
    for key, text in Q.also_missing.items():
        yield f"also_missing.{key}", text
    for key, text in Q.advice.items():
        yield f"advice.{key}", text
    for relationship in Q.relationships.values():
        yield f"relationships.{relationship.key}.definition", relationship.definition
        for index, text in enumerate(relationship.advice):
            yield f"relationships.{relationship.key}.advice[{index}]", text
    for index, text in enumerate(Q.solid_advice):
        yield f"solid_advice[{index}]", text
    yield "closing", Q.closing
    yield "next_steps_intro", Q.next_steps_intro
    yield "quote", Q.quote


# ---------------------------------------------------------------- the shipped data


def test_twelve_questions_in_the_contract_order():
    assert Q.keys == QUESTION_KEYS
    assert len(Q.questions) == 12
    assert [q.kind for q in Q.questions] == ["relationship"] + ["criterion"] * 5 + ["pillar"] * 4 + ["extra"] * 2
    assert [q.position for q in Q.questions] == list(range(1, 13))
    assert Q.question("contract") is Q["contract"]


def test_unknown_question_key_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown question key 'legs'"):
        Q.question("legs")


@pytest.mark.parametrize(
    "key, words",
    [  # each question names what it checks in the text's own words
        ("relationship", ["partenaire", "client", "fournisseur"]),
        ("autonomy", ["autonomes"]),
        ("pooled_efforts", ["efforts en commun"]),
        ("common_goal", ["objectif commun", "besoin clairement identifié"]),
        ("own_missions", ["missions propres"]),
        ("shared_stakes", ["intérêt", "responsabilité", "motivation", "obligations"]),
        ("shared_desire", ["même envie"]),
        ("common_project", ["projet commun"]),
        ("balance", ["équilibr"]),
        ("contract", ["contrat"]),
        ("partner_choice", ["choisi", "travailler en partenariat"]),
        ("piloting", ["durée", "piloter"]),
    ],
)
def test_each_prompt_names_what_it_checks(key, words):
    prompt = Q[key].prompt.lower()
    for word in words:
        assert word in prompt, f"{key}: the prompt should say « {word} »"


@pytest.mark.parametrize("question", Q.questions, ids=lambda q: q.key)
def test_questions_are_short_closed_questions_to_vous(question):
    for text in (question.prompt, question.rephrase):
        assert text.rstrip().endswith("?"), f"{question.key}: ends with a question for the buttons"
        assert re.search(r"\b(vous|votre|vos|vôtre)\b", text, re.I), f"{question.key}: addresses the visitor as vous"
        assert len(re.findall(r"[.!?…]+(?:\s|$)", text)) <= 3, f"{question.key}: 1–2 short sentences"
    assert question.rephrase != question.prompt
    assert 1 <= len(re.findall(r"[.!?…]+(?:\s|$)", question.why)) <= 3


@pytest.mark.parametrize("question", Q.questions, ids=lambda q: q.key)
def test_every_question_has_cues_for_its_main_answers(question):
    expected = ("partnership", "client", "supplier") if question.kind == "relationship" else ("yes", "partly", "no")
    for answer in expected:
        assert question.cues.get(answer), f"{question.key}: no cue for {answer!r}"
    assert set(question.cues) <= set(question.choices)


def test_quick_replies_are_the_buttons_of_the_issue():
    assert [(r.title, r.value) for r in Q["autonomy"].quick_replies] == [
        ("Oui", "yes"), ("En partie", "partly"), ("Non", "no"), ("Je ne sais pas", "unknown"),
    ]
    assert [(r.title, r.value) for r in Q["relationship"].quick_replies] == [
        ("Un partenaire", "partnership"), ("Un client", "client"), ("Un fournisseur", "supplier"),
        ("Je ne sais pas", "unclear"),
    ]


def test_verdicts_and_advice_cover_every_key():
    assert set(Q.verdicts) == set(VERDICTS)
    assert set(Q.advice) == set(ANSWER_KEYS)
    assert set(Q.relationships) == set(RELATIONSHIPS)
    for key in ("client", "supplier", "unclear"):
        assert Q.relationships[key].advice


def test_dictionary_definitions_are_quoted_from_the_text():
    assert french_spacing("« une personne qui reçoit de quelqu’un, contre paiement, des fournitures commerciales ou des services »") \
        in Q.relationships["client"].definition
    assert Q.relationships["supplier"].definition == \
        french_spacing("« une personne ou un établissement qui fournit habituellement une marchandise ou un service »")
    assert Q.relationships["partnership"].definition == \
        french_spacing("« une personne à qui on est associé, en relation dans une entreprise »")


def test_closing_offers_sales_in_progress_help_with_the_texts_contacts():
    assert "Sales In Progress" in Q.closing
    assert "06 34 22 31 71" in Q.closing
    assert "www.salesinprogress.com" in Q.closing
    assert "choix du partenaire, la construction et le pilotage de la relation" in Q.closing


def test_marcs_voice_keeps_the_texts_images():
    everything = " ".join(text for _, text in marc_texts())
    for image in ("mariage", "table", "pieds", "dictionnaire", "se faire manger", "Tinder"):
        assert image in everything


@pytest.mark.parametrize("where, text", list(marc_texts()), ids=lambda value: value if len(value) < 40 else "")
def test_french_typography(where, text):
    assert text == text.strip() and "  " not in text, f"{where}: stray spaces"
    assert "'" not in text, f"{where}: use the typographic apostrophe ’"
    assert text.count("«") == text.count("»"), f"{where}: unbalanced « »"
    assert not re.search(r"«\S|\S»", text), f"{where}: « » need a space inside"
    assert not re.search(r"\w[?!:;]", text), f"{where}: French puts a space before ? ! : ;"
    assert not re.search(r"\b(tu|toi|ton|ta|tes|te)\b", text, re.I), f"{where}: Marc says vous to the visitor"


# ---------------------------------------------------------------- broken copies


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    for name in (QUESTIONNAIRE_FILE, ADVICE_FILE):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def edit(directory: Path, name: str, old: str, new: str, count: int = 1) -> None:
    path = directory / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def remove_question(directory: Path, key: str) -> None:
    path = directory / QUESTIONNAIRE_FILE
    text = path.read_text(encoding="utf-8")
    blocks = re.split(r"(?m)^(?=  - key: )", text)
    path.write_text("".join(b for b in blocks if not b.startswith(f"  - key: {key}\n")), encoding="utf-8")


def load_error(directory: Path) -> str:
    with pytest.raises(DiagnosticDataError) as caught:
        load_questionnaire(directory)
    return str(caught.value)


def test_a_clean_copy_loads(data_dir):
    assert load_questionnaire(data_dir).keys == QUESTION_KEYS


def test_missing_question(data_dir):
    remove_question(data_dir, "balance")
    message = load_error(data_dir)
    assert str(data_dir / QUESTIONNAIRE_FILE) in message
    assert "question 'balance' is missing" in message


def test_questions_out_of_order(data_dir):
    path = data_dir / QUESTIONNAIRE_FILE
    text = path.read_text(encoding="utf-8")
    text = text.replace("  - key: balance\n", "  - key: TMP\n").replace("  - key: contract\n", "  - key: balance\n")
    text = text.replace("  - key: TMP\n", "  - key: contract\n")
    path.write_text(text, encoding="utf-8")
    message = load_error(data_dir)
    assert "must come in this order" in message


def test_duplicated_question(data_dir):
    edit(data_dir, QUESTIONNAIRE_FILE, "  - key: piloting\n", "  - key: partner_choice\n")
    message = load_error(data_dir)
    assert "'partner_choice' appears 2 times" in message
    assert "'piloting' is missing" in message


def test_unknown_kind(data_dir):
    edit(data_dir, QUESTIONNAIRE_FILE, "  - key: balance\n    kind: pillar\n", "  - key: balance\n    kind: pilar\n")
    message = load_error(data_dir)
    assert "question 9 ('balance')" in message
    assert "unknown kind 'pilar'" in message
    assert re.search(r"\(line \d+\)", message), "the consultant is told which line to fix"


def test_kind_that_contradicts_the_key(data_dir):
    edit(data_dir, QUESTIONNAIRE_FILE, "  - key: contract\n    kind: pillar\n", "  - key: contract\n    kind: criterion\n")
    assert "kind of 'contract' must be 'pillar', not 'criterion'" in load_error(data_dir)


def test_typo_in_an_answer_name(data_dir):
    edit(data_dir, QUESTIONNAIRE_FILE, "      partly:\n        - des mails\n", "      partely:\n        - des mails\n")
    message = load_error(data_dir)
    assert "question 10 ('contract'), cues" in message
    assert "unknown answer 'partely' (expected: yes, partly, no, unknown)" in message


def test_typo_in_a_relationship_cue_name(data_dir):
    edit(data_dir, QUESTIONNAIRE_FILE, "      supplier:\n", "      suplier:\n")
    assert "unknown answer 'suplier' (expected: partnership, client, supplier, unclear)" in load_error(data_dir)


def test_misspelt_field(data_dir):
    edit(data_dir, QUESTIONNAIRE_FILE, "    prompt: \"Point n° 2", "    promt: \"Point n° 2")
    message = load_error(data_dir)
    assert "unknown field 'promt'" in message
    assert "missing field 'prompt'" in message


def test_empty_text(data_dir):
    edit(data_dir, QUESTIONNAIRE_FILE, "    label: \"La même envie\"", "    label: \"  \"")
    assert "question 7 ('shared_desire') (line" in load_error(data_dir)
    assert "field 'label' is empty" in load_error(data_dir)


def test_same_cue_under_two_answers(data_dir):
    edit(data_dir, QUESTIONNAIRE_FILE, "        - rien de formel\n", "        - rien de formel\n        - des mails\n")
    assert "'des mails' is listed under both 'partly' and 'no'" in load_error(data_dir)


def test_unquoted_yes_and_no_mean_the_answers(data_dir):
    # YAML 1.1 would read them as booleans: a consultant should not have to know that.
    edit(data_dir, QUESTIONNAIRE_FILE, '      "yes":\n', "      yes:\n", count=-1)
    edit(data_dir, QUESTIONNAIRE_FILE, '      "no":\n', "      no:\n", count=-1)
    edit(data_dir, QUESTIONNAIRE_FILE, 'value: "no"}', "value: no}")
    q = load_questionnaire(data_dir)
    assert "contrat" in q["contract"].cues["yes"]
    assert q["autonomy"].quick_replies[2].value == "no"


def test_duplicate_yaml_key(data_dir):
    edit(data_dir, QUESTIONNAIRE_FILE, "    label: \"Le contrat\"\n", "    label: \"Le contrat\"\n    label: \"Contrat\"\n")
    message = load_error(data_dir)
    assert "duplicate key 'label'" in message and "line" in message


def test_invalid_yaml(data_dir):
    edit(data_dir, QUESTIONNAIRE_FILE, "  - key: balance\n", "  - key: [balance\n")
    assert "not valid YAML" in load_error(data_dir)


def test_missing_file(data_dir):
    (data_dir / ADVICE_FILE).unlink()
    message = load_error(data_dir)
    assert str(data_dir / ADVICE_FILE) in message and "file not found" in message


def test_missing_advice(data_dir):
    edit(data_dir, ADVICE_FILE, "  contract: \"Pensez au contrat", "  contrat: \"Pensez au contrat")
    message = load_error(data_dir)
    assert str(data_dir / ADVICE_FILE) in message
    assert "missing entry 'contract'" in message
    assert "unknown entry 'contrat'" in message


def test_missing_verdict(data_dir):
    edit(data_dir, ADVICE_FILE, "  solid:\n", "  solide:\n")
    message = load_error(data_dir)
    assert "verdicts" in message and "missing entry 'solid'" in message


def test_unknown_placeholder(data_dir):
    edit(data_dir, ADVICE_FILE, "il lui manque {missing_pillars}", "il lui manque {missing_legs}")
    message = load_error(data_dir)
    assert "verdicts.wobbly.message" in message
    assert "unknown placeholder {missing_legs}" in message
    assert "the message must mention {missing_pillars}" in message


def test_badly_formed_placeholder(data_dir):
    edit(data_dir, ADVICE_FILE, "il lui manque {missing_pillars}", "il lui manque {missing_pillars")
    assert "badly formed {placeholder}" in load_error(data_dir)


def test_relationship_without_advice(data_dir):
    path = data_dir / ADVICE_FILE
    text = path.read_text(encoding="utf-8")
    start = text.index("  unclear:\n")
    end = text.index("\n# Un conseil par point")
    path.write_text(text[:start] + '  unclear:\n    noun: "une relation floue"\n    definition: "floue"\n' + text[end:],
                    encoding="utf-8")
    assert "relationships.unclear.advice" in load_error(data_dir)


def test_every_problem_is_reported_at_once(data_dir):
    edit(data_dir, QUESTIONNAIRE_FILE, "    kind: pillar\n", "    kind: pilar\n")
    edit(data_dir, QUESTIONNAIRE_FILE, "    kind: extra\n", "    kind: extrat\n")
    with pytest.raises(DiagnosticDataError) as caught:
        load_questionnaire(data_dir)
    assert len(caught.value.problems) == 2
    assert caught.value.path == data_dir / QUESTIONNAIRE_FILE


def test_constants_match_the_contract():
    assert ANSWERS == ("yes", "partly", "no", "unknown")
    assert CRITERIA == ("autonomy", "pooled_efforts", "common_goal", "own_missions", "shared_stakes")
    assert PILLARS == ("shared_desire", "common_project", "balance", "contract")
    assert EXTRAS == ("partner_choice", "piloting")
    assert RELATIONSHIPS == ("partnership", "client", "supplier", "unclear")


def test_a_quote_template_without_the_visitors_words_is_refused(data_dir):
    edit(data_dir, ADVICE_FILE, "« {words} »", "« {mots} »")
    assert "must mention {label} and {words}" in load_error(data_dir)
