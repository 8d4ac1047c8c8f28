"""Rasa custom actions: thin translators between Rasa trackers and the plain-Python `bot` core.

`rasa run actions` imports this package; every module below registers its actions on import.
The action server only answers the Rasa server (actions/shared_secret.py).
"""
from actions import booking, coaching, contact, diagnostic, form_aside, questions, session, shared_secret  # noqa: F401  (registration by import)

shared_secret.install()
