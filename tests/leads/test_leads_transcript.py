"""Transcripts read from Rasa's SQL tracker store (table events), and their erasure."""

from bot.leads.transcript import delete_conversations, read_transcript, tracker_db_url


def test_reads_user_and_bot_messages_in_order(tracker):
    tracker.conversation("s1", [("Bonjour Marc", "Salut ! Je suis en plein deal !"),
                                ("Un partenariat ?", "Oui, à donf !")])
    tracker.add("s1", "slot", name="email", value="x")  # not a message
    tracker.add("s1", "bot")  # a bot event without text (buttons, custom payload)
    tracker.conversation("s2", [("Autre visiteur", "Autre réponse")])
    lines = read_transcript("s1", tracker.url)
    assert [(l.speaker, l.text) for l in lines] == [
        ("visitor", "Bonjour Marc"), ("bot", "Salut ! Je suis en plein deal !"),
        ("visitor", "Un partenariat ?"), ("bot", "Oui, à donf !"),
    ]
    assert lines[0].speaker_fr == "Visiteur" and lines[1].speaker_fr == "Marc"
    assert lines[0].timestamp.tzinfo is not None
    assert lines[0].to_dict()["sender_id"] == "s1"


def test_several_conversations_are_merged_by_time(tracker):
    tracker.conversation("s1", [("premier", "r1")])
    tracker.conversation("s2", [("second", "r2")])
    assert [l.text for l in read_transcript(["s1", "s2"], tracker.url)] == ["premier", "r1", "second", "r2"]


def test_missing_database_or_table_reads_empty_and_creates_nothing(tmp_path):
    url = f"sqlite:///{tmp_path}/nope/tracker.sqlite3"
    assert read_transcript("s1", url) == []
    assert delete_conversations("s1", url) == 0
    assert not (tmp_path / "nope").exists()
    empty = f"sqlite:///{tmp_path}/empty.sqlite3"
    import sqlite3
    sqlite3.connect(tmp_path / "empty.sqlite3").close()
    assert read_transcript("s1", empty) == []


def test_delete_conversations_only_touches_those_senders(tracker):
    tracker.conversation("s1", [("a", "b")])
    tracker.conversation("s2", [("c", "d")])
    assert delete_conversations(["s1"], tracker.url) == 3
    assert tracker.count("s1") == 0 and tracker.count("s2") == 3
    assert read_transcript("s1", tracker.url) == []


def test_default_tracker_url(monkeypatch):
    from bot.paths import PROJECT_ROOT

    assert tracker_db_url({}) == f"sqlite:///{PROJECT_ROOT}/var/tracker.sqlite3"
    assert tracker_db_url({"TRACKER_DB_URL": "postgresql://x/y"}) == "postgresql://x/y"


def test_redact_since_blanks_in_place_what_was_said_after_the_form_started(tracker):
    from bot.leads.transcript import REDACTED, redact_since

    tracker.conversation("s1", [("Parlons partenariat", "Avec plaisir !")])
    started = tracker.clock + 0.5
    tracker.add("s1", "active_loop", name="contact_form")
    tracker.add("s1", "user", "Jeanne Martin", parse_data={
        "text": "Jeanne Martin", "entities": [{"entity": "name", "value": "Jeanne Martin"}]})
    tracker.add("s1", "slot", name="contact_name", value="Jeanne Martin")
    tracker.add("s1", "slot", name="requested_slot", value="contact_email")
    tracker.add("s1", "bot", "Merci Jeanne Martin ! Votre e-mail ?", data={"buttons": [{"title": "Pas d'e-mail"}]})
    tracker.add("s1", "user", "jeanne@menuiserie.fr")
    tracker.add("s1", "entities", entities=[{"entity": "email", "value": "jeanne@menuiserie.fr"}])
    tracker.conversation("s2", [("Jeanne Martin aussi", "Bonjour")])
    before = tracker.count()

    assert redact_since("s1", started, tracker.url) == 5
    assert tracker.count() == before  # rewritten, never deleted (Rasa appends by count)
    import json
    import sqlalchemy as sa
    from bot.leads.transcript import events_table
    with tracker.engine.connect() as connection:
        raw = " ".join(d for (d,) in connection.execute(
            sa.select(events_table.c.data).where(events_table.c.sender_id == "s1")))
    assert "Jeanne" not in raw and "menuiserie" not in raw
    assert '"contact_email"' in raw  # requested_slot kept: not personal
    lines = read_transcript("s1", tracker.url)
    assert [l.text for l in lines] == ["Parlons partenariat", "Avec plaisir !", REDACTED, REDACTED, REDACTED]
    assert read_transcript("s2", tracker.url)[0].text == "Jeanne Martin aussi"  # other visitor untouched
    assert redact_since("s1", started, tracker.url) == 0  # idempotent
    assert redact_since("s1", started, "sqlite:///nowhere/x.sqlite3") == 0
