"""`--experiment cached-validator`: one jsonschema validator per schema, reused.

Since measured, this is part of the product (`channels/server_tuning.py`, loaded by our Rasa
server); the experiment applies the same code to any served bot, the stock one included.
"""
from channels.server_tuning import _cache_jsonschema_validators


def apply() -> None:
    _cache_jsonschema_validators()
