"""LinearIntentClassifier: trained, saved and loaded back through Rasa's model storage."""
from __future__ import annotations

import zlib
from collections import OrderedDict

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.linear_intent_classifier import MODEL_FILE, QUESTIONS_KEY, LinearIntentClassifier

EXAMPLES = {
    "ask_pillars": ["quels sont les quatre piliers ?", "les piliers d'un partenariat", "c'est quoi les piliers",
                    "donne-moi les piliers", "piliers du partenariat stp", "cite les 4 piliers"],
    "greet": ["bonjour", "salut Marc", "coucou", "hello", "bonsoir Marc", "slt"],
    "goodbye": ["au revoir", "à plus", "bye", "bonne journée", "ciao Marc", "a+ merci au revoir"],
    "ask_piloting": ["comment piloter un partenariat ?", "piloter la relation", "le pilotage c'est quoi",
                     "comment on pilote", "piloter dans la durée", "faire le point pour piloter"],
}


def training_data(with_vectors: bool = False) -> TrainingData:
    messages = []
    for intent, texts in EXAMPLES.items():
        for text in texts:
            message = Message(data={TEXT: text, INTENT: intent})
            if with_vectors:
                add_vector(message)
            messages.append(message)
    return TrainingData(messages)


def add_vector(message: Message) -> None:
    """A stand-in for SpacyFeaturizer's sentence vector (deterministic per text)."""
    vector = np.random.default_rng(zlib.crc32(message.get(TEXT).encode())).normal(size=(1, 8))
    message.add_features(Features(vector, "sentence", TEXT, "SpacyFeaturizer"))


@pytest.fixture
def storage(tmp_path):
    (tmp_path / "storage").mkdir()
    return LocalModelStorage(tmp_path / "storage")


def train(storage, with_vectors=False, **config) -> LinearIntentClassifier:
    resource = Resource("linear")
    context = ExecutionContext(GraphSchema({}), "test")
    classifier = LinearIntentClassifier.create({**LinearIntentClassifier.get_default_config(), "calibration_folds": 3,
                                                **config}, storage, resource, context)
    classifier.train(training_data(with_vectors))
    return classifier


def classify(classifier, text, with_vectors=False) -> Message:
    message = Message(data={TEXT: text})
    if with_vectors:
        add_vector(message)
    return classifier.process([message])[0]


@pytest.mark.parametrize("with_vectors", [False, True])
def test_it_tells_the_intents_apart_with_a_ranking_of_probabilities(storage, with_vectors):
    classifier = train(storage, with_vectors)
    for text, expected in (("c koi les piliers", "ask_pillars"), ("salut", "greet"), ("bye bye Marc", "goodbye")):
        message = classify(classifier, text, with_vectors)
        ranking = message.get(INTENT_RANKING_KEY)
        assert message.get(INTENT) == ranking[0] and ranking[0]["name"] == expected
        confidences = [r["confidence"] for r in ranking]
        assert confidences == sorted(confidences, reverse=True) and all(isinstance(c, float) for c in confidences)
        assert sum(confidences) == pytest.approx(1.0)
        assert {r["name"] for r in ranking} == set(EXAMPLES)


def test_the_ranking_is_cut_to_its_length(storage):
    message = classify(train(storage, ranking_length=2), "bonjour")
    assert len(message.get(INTENT_RANKING_KEY)) == 2


def test_a_saved_model_loads_back_and_answers_the_same(storage):
    classifier = train(storage)
    context = ExecutionContext(GraphSchema({}), "test")
    loaded = LinearIntentClassifier.load(classifier.config, storage, Resource("linear"), context)
    for text in ("les piliers ?", "coucou Marc", "à la prochaine"):
        assert classify(loaded, text).get(INTENT_RANKING_KEY) == classify(classifier, text).get(INTENT_RANKING_KEY)


@pytest.mark.parametrize("tampered", [
    lambda model: {**model, "extra": OrderedDict()},  # a type the component never saves
    lambda model: {"classifier": model["classifier"]},  # trusted types, not this component's model
])
def test_a_model_file_it_did_not_write_is_refused(storage, tampered):
    import skops.io as sio

    classifier = train(storage)
    with storage.write_to(Resource("linear")) as model_dir:
        sio.dump(tampered(classifier.model), model_dir / MODEL_FILE)
    context = ExecutionContext(GraphSchema({}), "test")
    refused = LinearIntentClassifier.load(classifier.config, storage, Resource("linear"), context)
    message = classify(refused, "bonjour")
    assert message.get(INTENT) == {"name": None, "confidence": 0.0} and message.get(INTENT_RANKING_KEY) == []


@pytest.mark.parametrize("with_vectors", [False, True])
def test_two_questions_in_one_message_get_one_topic_each_in_order(storage, with_vectors):
    classifier = train(storage, with_vectors)
    message = classify(classifier, "c'est quoi les quatre piliers ? et comment on pilote ?", with_vectors)
    assert message.get(QUESTIONS_KEY) == ["ask_pillars", "ask_piloting"]
    assert QUESTIONS_KEY in message.as_dict(only_output_properties=True)  # reaches the tracker
    assert classify(classifier, "c'est quoi les quatre piliers ?", with_vectors).get(QUESTIONS_KEY) is None


@pytest.mark.parametrize("with_vectors", [False, True])
def test_the_question_after_a_long_context_is_what_is_classified(storage, with_vectors):
    classifier = train(storage, with_vectors)
    text = ("Bonjour, nous sommes une fromagerie de huit salariés en Savoie et un grossiste de la vallée "
            "nous a contactés la semaine dernière. Quels sont les quatre piliers ?")
    assert classify(classifier, text, with_vectors).get(INTENT)["name"] == "ask_pillars"
