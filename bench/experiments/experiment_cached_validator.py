"""`--experiment cached-validator`: one jsonschema validator per schema, reused.

Rasa 3.6 checks every reply of the action server with `jsonschema.validate(reply, schema)`
(`RemoteAction._validate_action_result`), and `jsonschema.validate` first re-checks the schema
itself against its meta-schema, then builds a validator, on every call, for a schema that never
changes. Here `jsonschema.validate` builds one validator per distinct schema and reuses it: same
checks, same exception (the best-matching error, as jsonschema raises it).
"""
import json


def apply() -> None:
    try:
        import jsonschema
        from jsonschema import exceptions, validators
    except ImportError:
        return
    original = jsonschema.validate
    cache: dict = {}

    def validate(instance, schema, cls=None, *args, **kwargs):
        if cls is not None or args or kwargs:
            return original(instance, schema, cls, *args, **kwargs)
        key = json.dumps(schema, sort_keys=True, default=repr)
        validator = cache.get(key)
        if validator is None:
            validator_cls = validators.validator_for(schema)
            validator_cls.check_schema(schema)
            validator = cache[key] = validator_cls(schema)
        error = exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error

    jsonschema.validate = validate
