"""Rasa custom actions: thin translators between Rasa trackers and the plain-Python `bot` core.

`rasa run actions` imports this package; every module below registers its actions on import.
"""
from actions import coaching, contact, diagnostic, form_aside, questions, session  # noqa: F401  (registration by import)
