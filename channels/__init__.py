"""Rasa input channels (loaded by name from credentials.yml)."""
