"""Our NLU pipeline components, loaded the way Rasa's recipe loads them."""
from pathlib import Path

import pytest
import yaml
from rasa.nlu.model import InvalidModelError

from nlu_components.spacy_nlp import SpacyNLP

ROOT = Path(__file__).resolve().parents[1]
ALL_PIPES = ["tok2vec", "morphologizer", "parser", "senter", "attribute_ruler", "lemmatizer", "ner"]
TEXTS = ["Quels sont les piliers d'un partenariat ?", "c koi la diff entre client et fournisseur",
         "coache-moi stp", "Bonjour Marc 👋 j'ai une question sur les joint-ventures"]


def _create(**config):
    return SpacyNLP.create({"model": "fr_core_news_md", **config}, None, None, None)


@pytest.fixture(scope="module")
def lean():
    return _create(exclude=ALL_PIPES)


def test_excluded_pipes_are_not_loaded_and_vectors_still_work(lean):
    nlp = lean.provide().model
    assert nlp.pipe_names == [] and nlp.component_names == []
    doc = nlp("Quels sont les piliers d'un partenariat ?")
    assert [t.text for t in doc][:3] == ["Quels", "sont", "les"]
    assert doc[4].has_vector and doc.vector.any()   # "piliers" has a word vector


def test_without_exclude_it_is_rasas_loader(monkeypatch):
    import spacy
    calls = []
    monkeypatch.setattr(spacy, "load", lambda name, **kw: calls.append((name, kw)) or spacy.blank("fr"))
    with pytest.raises(Exception, match="Failed to load SpaCy"):   # Rasa's own check of a pathless model
        _create()
    assert calls == [("fr_core_news_md", {"disable": ["parser"]})]


def test_without_the_string_table_tokens_and_vectors_are_identical(lean):
    import numpy as np
    lighter = _create(exclude=ALL_PIPES + ["strings"]).provide().model
    assert len(lighter.vocab.strings) < 10_000 < len(lean.provide().model.vocab.strings)
    for text in TEXTS:
        with_strings, without = lean.provide().model(text), lighter(text)
        assert [t.text for t in without] == [t.text for t in with_strings]
        assert np.array_equal(np.array([t.vector for t in without]), np.array([t.vector for t in with_strings]))


def test_an_unknown_pipe_name_is_a_clear_error():
    with pytest.raises(InvalidModelError, match="lemmatiser.*fr_core_news_md"):
        _create(exclude=["lemmatiser"])


def test_the_pipeline_uses_no_lemma_when_the_lemmatizer_is_excluded():
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
    loader = next(c for c in pipeline if c["name"].endswith("SpacyNLP"))
    if "lemmatizer" in loader.get("exclude", []):
        counts = [c for c in pipeline if c["name"] == "CountVectorsFeaturizer"]
        assert all(c.get("use_lemma") is False for c in counts)  # none at all is fine too
