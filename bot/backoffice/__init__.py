"""The consultants' back office (issue 15): a small Starlette site, server-rendered, on
``BACKOFFICE_PORT`` (8001), bound to 127.0.0.1 unless ``BACKOFFICE_HOST`` says otherwise.

Split by concern:

``settings``     the environment it reads (port, cookie, idle timeout, login limits);
``models``       its tables, in the leads database (same Alembic history);
``accounts``     ``sip-coach users add|list|disable|passwd``: argon2 hashes;
``auth``         login, the session cookie, CSRF tokens, the login rate limit, idle timeout;
``queries``      what the pages show, read from the leads and the conversations;
``unanswered``   the visitor messages the bot missed, grouped by similarity;
``nlu_review``   those assigned to a topic, written into ``data/nlu/reviewed.yml``;
``funnel``       the weekly funnel, from the Rasa markers evaluated on the event broker's events;
``views_*``      the pages (one module per page family), ``app`` wires them, ``server`` runs it.

Plain Python: nothing here imports Rasa (the markers are evaluated by ``channels/markers.py``).
"""
