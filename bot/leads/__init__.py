"""Leads back end of Coach Partenariat (plain Python, no Rasa import).

A visitor who accepts Sales In Progress's help and gives consent becomes a *lead*:
stored with a proof of consent and a snapshot of the diagnostic, qualified
(hot / warm / cold + score), and handed off to a consultant by e-mail and/or
webhook through a transactional outbox. The Rasa actions only talk to
:mod:`bot.leads.service`; consultants use the ``sip-coach`` command (:mod:`bot.cli`).
See ``docs/leads.md``.
"""
