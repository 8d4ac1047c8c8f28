"""Issues 11 and 13 end to end over REST: the forms never lose the visitor, and a stranger
can neither read nor consent in a visitor's name."""
import json
import sqlite3

import pytest

from bot.diagnostic import load_questionnaire
from bot.knowledge import load_knowledge
from bot.leads.consent import get_notice
from bot.leads.service import LeadService
from tests.e2e.helpers import new_sender, texts

pytestmark = pytest.mark.e2e
K = load_knowledge()
Q = load_questionnaire()
CONTACT_Q = K.contact_questions


def leads(stack):
    service = LeadService.from_env({"LEADS_DB_URL": stack.leads_db_url}, deliver_on_submit=False)
    try:
        return service.export()
    finally:
        service.close()


def tracker_slots(stack, sender):
    """The conversation's slots as the tracker store has them (last value of each)."""
    path = stack.tracker_db_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'slot' ORDER BY id", (sender,)
        ).fetchall()
    slots = {}
    for (data,) in rows:
        event = json.loads(data)
        slots[event["name"]] = event["value"]
    return slots


def age_conversation(stack, sender, seconds):
    """Move a conversation back in time, as if the visitor had left `seconds` ago."""
    path = stack.tracker_db_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        db.execute("UPDATE events SET timestamp = timestamp - ? WHERE sender_id = ?", (seconds, sender))
        rows = db.execute("SELECT id, data FROM events WHERE sender_id = ?", (sender,)).fetchall()
        for row_id, data in rows:
            event = json.loads(data)
            if "timestamp" in event:
                event["timestamp"] -= seconds
                db.execute("UPDATE events SET data = ? WHERE id = ?", (json.dumps(event), row_id))


def open_contact_form(stack, sender):
    reply = stack.chat(sender, "je voudrais être rappelé")
    assert CONTACT_Q["name"][0] in texts(reply)[-1]


# ------------------------------------------------------------------ issue 11: the forms
def test_a_callback_moment_that_sounds_like_goodbye_is_recorded_and_the_lead_kept(live_stack):
    sender = new_sender()
    open_contact_form(live_stack, sender)
    live_stack.chat(sender, "je m'appelle Paul Durand")
    live_stack.chat(sender, "c'est la société Durand Logistique")
    live_stack.chat(sender, "mon mail c'est paul.durand@durand-logistique.fr")
    live_stack.chat(sender, "mon portable : 06 98 76 54 32")
    reply = live_stack.chat(sender, "plutot en fin de journée, apres 17h")
    assert CONTACT_Q["need"][0] in texts(reply)[-1]
    live_stack.chat(sender, "trouver un bon partenaire")
    live_stack.chat(sender, "Oui, j'accepte")
    [lead] = [l for l in leads(live_stack) if l["sender_id"] == sender]
    assert lead["name"] == "Paul Durand" and lead["company"] == "Durand Logistique"
    assert lead["email"] == "paul.durand@durand-logistique.fr" and lead["phone"] == "+33698765432"
    assert lead["callback_time"] == "plutot en fin de journée, apres 17h"
    assert lead["callback_window"] == "17 h – 19 h"


def test_several_details_in_one_message_fill_several_fields_and_the_form_skips_them(live_stack):
    sender = new_sender()
    open_contact_form(live_stack, sender)
    reply = live_stack.chat(sender, "Paul Durand, Durand Logistique, 06 98 76 54 32")
    assert CONTACT_Q["email"][0] in texts(reply)[-1]  # name, company and phone taken: the e-mail next
    slots = tracker_slots(live_stack, sender)
    assert slots["contact_name"] == "Paul Durand" and slots["contact_company"] == "Durand Logistique"
    assert slots["contact_phone"] == "+33698765432"


def test_goodbye_and_thanks_mid_form_keep_the_form_and_what_was_typed(live_stack):
    sender = new_sender()
    open_contact_form(live_stack, sender)
    live_stack.chat(sender, "Alice Martin")
    reply = texts(live_stack.chat(sender, "au revoir"))
    assert reply[0] == K.lines["form_aside_goodbye"][0]
    assert CONTACT_Q["company"][0] in reply[-1]
    reply = texts(live_stack.chat(sender, "merci"))
    assert CONTACT_Q["company"][0] in reply[-1]
    assert tracker_slots(live_stack, sender)["contact_name"] == "Alice Martin"


def test_a_visitor_looking_for_a_detail_is_waited_for_and_loses_nothing(live_stack):
    sender = new_sender()
    open_contact_form(live_stack, sender)
    live_stack.chat(sender, "Alice Martin")
    live_stack.chat(sender, "Martin Conseil")
    reply = texts(live_stack.chat(sender, "deux secondes, je cherche mon adresse pro"))
    assert reply[0] == K.lines["form_aside_wait"][0]
    assert CONTACT_Q["email"][0] in reply[-1]
    slots = tracker_slots(live_stack, sender)
    assert slots["contact_name"] == "Alice Martin" and slots["contact_company"] == "Martin Conseil"
    assert slots.get("contact_email") is None


def test_thanks_mid_diagnostic_gets_a_line_then_the_same_question(live_stack):
    sender = new_sender()
    live_stack.chat(sender, "je veux évaluer mon partenariat")
    reply = texts(live_stack.chat(sender, "merci, c'est déjà instructif"))
    assert reply[0] == K.lines["form_aside_thanks"][0]
    assert Q.questions[0].prompt in reply[-1]


def test_stop_mid_form_pauses_and_resuming_finds_the_form_where_it_was(live_stack):
    sender = new_sender()
    open_contact_form(live_stack, sender)
    live_stack.chat(sender, "Alice Martin")
    paused = live_stack.chat(sender, "stop")
    assert "je garde ce que vous m’avez dit" in texts(paused)[0].lower()
    assert {"/request_contact", "/restart"} <= {b["payload"] for m in paused for b in m.get("buttons", [])}
    resumed = texts(live_stack.chat(sender, "/request_contact"))
    assert resumed[0] == K.lines["contact_resumed"][0]
    assert CONTACT_Q["company"][0] in resumed[-1]


@pytest.mark.parametrize("message", ["stop, finalement je ne veux pas être rappelé", "je voudrais être rappelé"])
def test_asking_for_the_callback_again_mid_form_never_restarts_it(live_stack, message):
    sender = new_sender()
    open_contact_form(live_stack, sender)
    live_stack.chat(sender, "Alice Martin")
    reply = texts(live_stack.chat(sender, message))
    if "stop" in message:
        assert "je garde ce que vous m’avez dit" in reply[0].lower()  # paused, everything kept
    else:
        assert CONTACT_Q["company"][0] in reply[-1] and CONTACT_Q["name"][0] not in " ".join(reply)
    assert tracker_slots(live_stack, sender)["contact_name"] == "Alice Martin"


def test_diagnostic_replies_with_context_are_answers_not_questions(live_stack):
    sender = new_sender()
    live_stack.chat(sender, "je veux évaluer mon partenariat")
    reply = live_stack.chat(sender, "bah on bosse ensemble sur des chantiers, ils nous apportent des clients "
                                    "et on leur en apporte, personne ne paie l'autre")
    assert Q.question("autonomy").prompt in texts(reply)[-1]
    assert tracker_slots(live_stack, sender)["diag_relationship"] == "partnership"


def test_the_consent_notice_is_shown_once_then_a_one_line_reminder(live_stack):
    sender = new_sender()
    open_contact_form(live_stack, sender)
    for text in ("Alice Martin", "Martin Conseil", "alice@example.fr", "non merci", "rien de particulier"):
        reply = live_stack.chat(sender, text)
    notice = get_notice()
    assert notice.text in texts(reply)
    again = texts(live_stack.chat(sender, "mouais"))
    assert notice.text not in again and again[-1] == notice.question
    assert sum(len(t.split()) for t in again) < 40


# ------------------------------------------------------------------ issue 13: trust
@pytest.mark.parametrize("sender", ["1", "abandon-2", "visiteur-42", "00000000-0000-0000-0000-000000000000"])
def test_a_guessable_sender_id_is_refused_with_a_french_400(live_stack, sender):
    status, body = live_stack.post_raw(json.dumps({"sender": sender, "message": "bonjour"}).encode())
    assert status == 400
    assert "deviner" in json.loads(body)["error"]


def test_an_abandoned_form_expires_and_a_late_consent_asks_the_details_again(live_stack):
    sender = new_sender()
    open_contact_form(live_stack, sender)
    for text in ("Alice Martin", "Martin Conseil", "alice@example.fr", "06 12 34 56 78", "le matin"):
        live_stack.chat(sender, text)
    age_conversation(live_stack, sender, 31 * 60)
    reply = texts(live_stack.chat(sender, "Oui, j'accepte"))
    assert reply[0] == K.lines["contact_expired"][0]
    assert CONTACT_Q["name"][0] in reply[-1]
    assert not any("Alice" in t or "alice@example.fr" in t for t in reply)
    assert not [l for l in leads(live_stack) if l["sender_id"] == sender]


def test_after_a_pause_the_recap_does_not_replay_the_details(live_stack):
    sender = new_sender()
    open_contact_form(live_stack, sender)
    for text in ("Alice Martin", "Martin Conseil", "alice@example.fr", "06 12 34 56 78", "le matin"):
        live_stack.chat(sender, text)
    age_conversation(live_stack, sender, 12 * 60)  # a pause, shorter than the form's lifetime
    reply = " ".join(texts(live_stack.chat(sender, "choisir un partenaire")))
    assert "Alice" not in reply and "alice@example.fr" not in reply and "06 12 34 56 78" not in reply
    assert "informations que vous m’avez données" in reply


def test_a_stranger_typing_someone_elses_email_creates_a_flagged_lead_of_its_own(live_stack):
    def submit(name, email):
        sender = new_sender()
        open_contact_form(live_stack, sender)
        said = []
        for text in (name, "Société Test", email, "non merci", "rien de particulier", "Oui, j'accepte"):
            said += [text, *texts(live_stack.chat(sender, text))]
        assert K.lines["contact_done"][0] in said, said
        return sender

    alice = submit("Alice Bernard", "alice.bernard@example.fr")
    mallory = submit("Mallory Pirate", "alice.bernard@example.fr")
    by_sender = {l["sender_id"]: l for l in leads(live_stack)}
    assert by_sender[alice]["name"] == "Alice Bernard"
    assert by_sender[mallory]["name"] == "Mallory Pirate"
    assert by_sender[mallory]["possible_duplicate_of"] == by_sender[alice]["id"]


def test_the_action_server_only_answers_the_rasa_server(live_stack):
    """A hand-written `/webhook` call with `next_action: action_submit_lead` stored leads."""
    import urllib.error
    import urllib.request

    sender = new_sender()
    call = {
        "next_action": "action_submit_lead", "sender_id": sender, "version": "3.6.21", "domain": {},
        "tracker": {"sender_id": sender, "slots": {"contact_name": "Mallory", "contact_email": "m@example.org",
                                                   "contact_consent": "yes"}, "events": [],
                    "latest_message": {}, "latest_action_name": "action_listen"},
    }
    for headers in ({}, {"X-Actions-Secret": "devine"}, {"X-Actions-Secret": ""}):
        request = urllib.request.Request(
            f"{live_stack.actions_url}/webhook", data=json.dumps(call).encode(),
            headers={"Content-Type": "application/json", **headers},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401
        assert "seul le serveur Rasa" in json.loads(refused.value.read())["error"]
    assert not [l for l in leads(live_stack) if l["sender_id"] == sender]
    # The Rasa server, which has the secret, still gets its actions run.
    assert texts(live_stack.chat(new_sender(), "bonjour"))


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_only_json_bodies_are_read(live_stack, content_type):
    """No CORS preflight for these: any page could post them from a visitor's browser."""
    body = json.dumps({"sender": new_sender(), "message": "bonjour"}).encode()
    status, raw = live_stack.post_raw(body, content_type=content_type)
    assert status == 415 and "application/json" in json.loads(raw)["error"]


def test_a_huge_body_gets_the_french_413_and_nothing_is_stored(live_stack):
    sender = new_sender()
    body = json.dumps({"sender": sender, "message": "bonjour", "metadata": {"x": "A" * 1_000_000}}).encode()
    status, raw = live_stack.post_raw(body)
    assert status == 413
    assert json.loads(raw)["error"] == "Requête invalide : message trop long (2 000 caractères au plus)."
    path = live_stack.tracker_db_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0] == 0
    assert texts(live_stack.chat(sender, "bonjour"))  # and the conversation can start normally


def test_a_refused_consent_forgets_everything_the_form_heard(live_stack):
    """Redacted after the turn is stored: the refusal's own words too; the widget is told."""
    sender = new_sender()
    open_contact_form(live_stack, sender)
    for text in ("Karim Stopper", "Stopper SARL", "karim.stopper@example.org", "06 12 34 56 78", "le soir",
                 "rien de spécial"):
        live_stack.chat(sender, text)
    reply = live_stack.chat(sender, "Non, je refuse, oubliez karim.stopper@example.org")
    assert reply[0].get("custom") == {"type": "forget"}
    assert get_notice().refused in texts(reply)
    path = live_stack.tracker_db_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        stored = " ".join(d for (d,) in db.execute("SELECT data FROM events WHERE sender_id = ?", (sender,)))
    assert "karim" not in stored.lower() and "Stopper" not in stored and "06 12 34 56 78" not in stored
    assert "je voudrais être rappelé" not in stored  # from the form's start on
    assert texts(live_stack.chat(sender, "c'est quoi un partenariat ?"))  # the conversation goes on


def test_a_message_starting_with_a_slash_is_read_as_text_and_never_logged(live_stack):
    sender = new_sender()
    assert texts(live_stack.chat(sender, "/karim.rasalog@example.org mon adresse"))
    assert texts(live_stack.chat(sender, '/greet{"email": "lea.rasalog@example.org"}'))
    log = (live_stack.workdir / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert "rasalog" not in log


def test_the_rasa_server_shows_no_version_banner(live_stack):
    import urllib.request

    with urllib.request.urlopen(f"{live_stack.rasa_url}/", timeout=10) as answer:
        body = answer.read().decode()
        assert json.loads(body) == {"status": "ok"} and "Rasa" not in body
        assert "Sanic" not in str(answer.headers) and "3.6" not in str(answer.headers)


def test_the_same_message_twice_never_gets_the_same_bubbles_twice(live_stack):
    sender = new_sender()
    open_contact_form(live_stack, sender)
    live_stack.chat(sender, "Alice Martin")
    live_stack.chat(sender, "Martin Conseil")
    first = texts(live_stack.chat(sender, "alice.martin.example.fr"))
    second = texts(live_stack.chat(sender, "alice.martin.example.fr"))
    assert first and second and first != second
    assert second[0] == K.lines["repeated_contact"][0]  # then the question again
    # A question asked twice in a row: the second time, a short hint instead of the same answer.
    other = new_sender()
    answer = texts(live_stack.chat(other, "c'est quoi les quatre piliers ?"))
    again = live_stack.chat(other, "c'est quoi les quatre piliers ?")
    assert texts(again) != answer and texts(again)[0].startswith("Pardon")
