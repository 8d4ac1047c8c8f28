"""The content file: complete, well-formed, faithful to the text's inventory."""
import copy
import re

import pytest
import yaml

from bot.knowledge import CONTENT_PATH, INVENTORY_POINTS, KnowledgeError, load_knowledge, parse_knowledge

RAW = yaml.safe_load(CONTENT_PATH.read_text(encoding="utf-8"))


def all_texts(knowledge):
    for step in knowledge.steps:
        yield from step.messages
    for topic in knowledge.topics.values():
        yield from topic.messages
    for lines in knowledge.lines.values():
        yield from lines
    yield from knowledge.session_end_messages


def test_session_covers_every_point_of_the_text_in_order():
    steps = load_knowledge().steps
    covered = [p for s in steps for p in s.covers]
    assert set(covered) == set(INVENTORY_POINTS)
    content_points = [p for p in covered if p != 12]  # 12 is the tone, present throughout
    assert content_points == sorted(content_points)


def test_every_topic_intent_of_the_inventory_has_an_answer():
    topics = load_knowledge().topics
    answered = {p for t in topics.values() for p in t.covers}
    assert set(range(1, 12)) <= answered


@pytest.mark.parametrize("needle", [
    "06 34 22 31 71", "www.salesinprogress.com", "Tinder", "poignée de main", "joint-venture",
    "fusion-acquisition", "mutualisant", "confrère", "quatre pieds", "piloté", "chahutés",
    "autonomes", "mettent en commun leurs efforts", "objectif commun", "missions propres",
    "voire des obligations", "même envie", "projet commun", "équilibre", "contrat",
    "contre paiement", "fournit habituellement", "à qui on est associé", "se faire manger",
    "mariage", "énergie, en temps et en argent", "deale", "n’importe quoi",
])
def test_the_text_key_ideas_are_all_said(needle):
    steps_text = " ".join(m for s in load_knowledge().steps for m in s.messages)
    assert needle in steps_text


def test_french_typography():
    for text in all_texts(load_knowledge()):
        assert "'" not in text, f"apostrophe droite : {text}"   # French typography: ’
        assert '"' not in text, f"guillemets droits : {text}"
        assert not re.search(r"\btu\b|\bton\b|\bta\b|\btes\b", text), f"tutoiement : {text}"
        assert "  " not in text


def test_messages_are_short_bubbles():
    knowledge = load_knowledge()
    for step in knowledge.steps:
        assert 1 <= len(step.messages) <= 3, step.id
    for text in all_texts(knowledge):
        sentences = [s for s in re.split(r"(?<=[.!?…])\s+(?=[A-ZÀ-Ý«])", text) if s]
        assert len(sentences) <= 4 or "\n" in text, text


def test_each_step_ends_on_a_question_or_buttons():
    knowledge = load_knowledge()
    assert knowledge.step_buttons  # every step shows continue / question / stop


@pytest.mark.parametrize("mutate, message", [
    (lambda raw: raw["buttons"].pop("resume"), "resume"),
    (lambda raw: raw["steps"][0].update(covers=[99]), "steps[0].covers"),
    (lambda raw: raw["topics"]["pillars"].update(related=["pilliers"]), "pilliers"),
    (lambda raw: raw["lines"].pop("goodbye"), "goodbye"),
    (lambda raw: raw["steps"][1].update(messages=[]), "steps[1].messages"),
    (lambda raw: raw.update(menu=["coaching", "dianostic"]), "dianostic"),
    (lambda raw: raw["buttons"]["stop"].update(payload="stop"), "payload"),
    (lambda raw: raw.update(resume_prompt="On reprend ?"), "next_title"),
    (lambda raw: raw["steps"].pop(2), "non couverts"),
])
def test_a_typo_in_the_content_fails_loudly(mutate, message):
    raw = copy.deepcopy(RAW)
    mutate(raw)
    with pytest.raises(KnowledgeError, match=re.escape(message)):
        parse_knowledge(raw)
