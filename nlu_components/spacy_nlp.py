"""Rasa's `SpacyNLP` model loader, with spaCy's own `exclude` option.

Rasa loads the whole `fr_core_news_md` pipeline (tok2vec, morphologizer, lemmatizer, NER…) and
runs it on every visitor message, although our pipeline only needs spaCy's tokenizer and word
vectors. Excluding the pipes we do not use, and the vocabulary's string table, saves about
300 MiB of the Rasa server's memory and most of spaCy's time per message (figures in
docs/nlu-evaluation.md and bench/results.md).

The class keeps the name `SpacyNLP` on purpose: Rasa's recipe connects `SpacyTokenizer` and
`SpacyFeaturizer` to the node whose class is called `SpacyNLP`.

Without the lemmatizer, tokens have no lemma: set `use_lemma: false` on the
`CountVectorsFeaturizer`s of the pipeline (checked by tests/test_nlu_components.py).
"""
from __future__ import annotations

from typing import Any, Dict, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.model import InvalidModelError
from rasa.nlu.utils import spacy_utils
from rasa.nlu.utils.spacy_utils import SpacyModel


# Parts of the vocabulary that may be left on disk too. "strings" is the string table of the
# whole vocabulary (712,952 entries, ~150 MiB in memory for fr_core_news_md): word vectors are
# looked up by hash, so tokens and vectors stay identical without it (checked on every training
# and held-out example); only texts of words never seen by the process are unknown, and our
# pipeline reads the text from the message itself.
VOCAB_PARTS = ("strings", "lookups")


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyNLP",  # like Rasa's: its own process steps receive the model it provides
)
class SpacyNLP(spacy_utils.SpacyNLP):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # `exclude`: spaCy pipe names not loaded at all (spacy.load(..., exclude=...)).
        return {**spacy_utils.SpacyNLP.get_default_config(), "exclude": []}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SpacyNLP":
        import spacy

        config = {**cls.get_default_config(), **config}
        name = config.get("model")
        if not config["exclude"] or not name:
            return super().create(config, model_storage, resource, execution_context)
        try:
            info = spacy.info(name)
        except (OSError, ValueError):  # not installed: Rasa's loader explains how to get it
            return super().create(config, model_storage, resource, execution_context)
        components = info.get("components", []) if isinstance(info, dict) else []
        unknown = sorted(set(config["exclude"]) - set(components) - set(VOCAB_PARTS))
        if unknown:
            raise InvalidModelError(
                f"SpacyNLP exclude: {', '.join(unknown)} is neither a pipe of {name} "
                f"({', '.join(components)}) nor {' / '.join(VOCAB_PARTS)}."
            )
        # Same checks as Rasa's loader (model installed, spaCy version), then the lean load:
        # loading the full model first would leave its memory in the process.
        if not spacy.util.is_compatible_version(spacy.about.__version__, info.get("spacy_version", "")):
            raise InvalidModelError(
                f"{name} requires spaCy {info.get('spacy_version')}, not {spacy.about.__version__}."
            )
        language = spacy.load(name, exclude=list(config["exclude"]))
        cls.ensure_proper_language_model(language)
        return cls(SpacyModel(model=language, model_name=name), config)
