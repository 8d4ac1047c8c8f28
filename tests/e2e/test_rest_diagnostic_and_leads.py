"""The diagnostic and the lead hand-off, through the real bot over the REST channel."""
import sqlite3

import pytest

from bot.diagnostic import load_questionnaire
from bot.knowledge import load_knowledge
from bot.leads.service import LeadService
from bot.typography import french_spacing
from tests.e2e.helpers import customs, new_sender, texts

pytestmark = pytest.mark.e2e
K = load_knowledge()
Q = load_questionnaire()


def answer_all(stack, sender, answers):
    """Start the diagnostic and answer its twelve questions; return the last reply."""
    stack.chat(sender, "je veux évaluer mon partenariat")
    reply = None
    for text in answers:
        reply = stack.chat(sender, text)
    return reply


def test_free_text_answers_give_a_verdict_with_the_missing_legs_named(live_stack):
    sender = new_sender()
    first = live_stack.chat(sender, "Fais-moi le diagnostic de mon projet de partenariat")
    assert texts(first)[0] == K.lines["diagnostic_intro"][0]
    assert Q.question("relationship").prompt in texts(first)[-1]
    answers = [
        "on monte un projet ensemble, c'est un partenaire",  # relationship
        "oui chacun reste indépendant",                       # autonomy
        "ben oui évidemment",                                  # pooled efforts
        "oui",                                                 # common goal
        "Oui",                                                 # own missions
        "oui bien sûr",                                        # shared stakes
        "carrément",                                           # shared desire
        "oui",                                                 # common project
        "c'est plutôt lui qui décide de tout",                 # balance -> no
        "rien d'écrit pour l'instant",                         # contract -> no
        "Oui",                                                 # partner choice
        "Oui",                                                 # piloting
    ]
    reply = None
    for text in answers:
        reply = live_stack.chat(sender, text)
    [payload] = customs(reply)
    assert payload["type"] == "diagnostic"
    assert payload["missing_pillars"] == ["balance", "contract"]
    assert payload["verdict"] == "wobbly"
    said = " ".join(texts(reply))
    assert Q.label("balance").lower() in said.lower() and Q.label("contract").lower() in said.lower()
    # The first missing point, in the visitor's own words, leads into the advice.
    assert french_spacing("vous me l’avez dit vous-même : « c’est plutôt lui qui décide de tout »") in said
    assert "/request_contact" in [b["payload"] for m in reply for b in m.get("buttons", [])]


def test_client_relationship_is_told_kindly_it_is_not_a_partnership(live_stack):
    reply = answer_all(live_stack, new_sender(), ["Un client"] + ["Oui"] * 11)
    [payload] = customs(reply)
    assert payload["verdict"] == "not_a_partnership"
    assert "contre paiement" in " ".join(texts(reply))


def test_mid_diagnostic_question_why_and_pause_then_resume(live_stack):
    sender = new_sender()
    live_stack.chat(sender, "je veux évaluer mon partenariat")
    live_stack.chat(sender, "Un partenaire")                   # -> autonomy asked
    answer = live_stack.chat(sender, "au fait c'est quoi les quatre piliers ?")
    said = texts(answer)
    assert said[0] == K.topics["pillars"].messages[0]
    assert Q.question("autonomy").prompt in said[-1]         # the form asks its question again
    why = texts(live_stack.chat(sender, "pourquoi cette question ?"))
    assert why[0] == Q.question("autonomy").why
    assert Q.question("autonomy").prompt in why[-1]
    unclear = texts(live_stack.chat(sender, "blablabla"))
    assert Q.question("autonomy").rephrase in unclear[-1]    # asked again, differently
    paused = texts(live_stack.chat(sender, "stop"))
    assert paused == list(K.lines["diagnostic_paused"])
    resumed = texts(live_stack.chat(sender, "on reprend le diagnostic"))
    assert resumed[0] == K.lines["diagnostic_resume"][0]
    assert Q.question("autonomy").rephrase in resumed[-1] or Q.question("autonomy").prompt in resumed[-1]


def leads(stack):
    service = LeadService.from_env({**stack.env, "LEADS_DELIVER_ON_SUBMIT": "false"})
    try:
        return service.export()
    finally:
        service.close()


def tracker_dump(stack, sender) -> str:
    path = stack.tracker_db_url.replace("sqlite:///", "")
    with sqlite3.connect(path) as db:
        rows = db.execute("select data from events where sender_id = ?", (sender,)).fetchall()
    return "\n".join(r[0] for r in rows)


def test_contact_form_with_consent_stores_a_qualified_lead_and_notifies(live_stack):
    sender = new_sender()
    answer_all(live_stack, sender, ["Un partenaire"] + ["Oui"] * 7 + ["Non", "Non", "Oui", "Oui"])
    assert texts(live_stack.chat(sender, "oui volontiers"))[0] == K.lines["contact_intro"][0]
    live_stack.chat(sender, "Arnaud Martin")
    live_stack.chat(sender, "Duo Conseil")
    bad_email = texts(live_stack.chat(sender, "arnaud.martin-at-duo"))
    assert "@" in bad_email[0]                                 # the reason, in French
    live_stack.chat(sender, "arnaud@duo-conseil.fr")
    bad_phone = texts(live_stack.chat(sender, "06 34"))
    assert bad_phone and "numéro" in bad_phone[0].lower()
    live_stack.chat(sender, "06 34 22 31 71")
    live_stack.chat(sender, "le mardi matin")
    consent = texts(live_stack.chat(sender, "Choisir le partenaire"))
    assert french_spacing("• Nom : Arnaud Martin") in consent[0] and "Vos droits" in consent[1]
    done = texts(live_stack.chat(sender, "Oui, j'accepte"))
    assert done[0] == K.lines["contact_done"][0]
    [lead] = [lead for lead in leads(live_stack) if lead["sender_id"] == sender]
    assert lead["email"] == "arnaud@duo-conseil.fr" and lead["phone"] == "+33634223171"
    assert lead["consent"] is True and lead["consent_version"]
    assert lead["missing_pillars"] == ["balance", "contract"] and lead["verdict"] == "wobbly"
    assert lead["qualification"] in ("hot", "warm", "cold")
    # Submitting again in the same conversation updates the lead, never duplicates it.
    live_stack.chat(sender, "je voudrais être rappelé")
    for text in ["Arnaud Martin", "Duo Conseil", "arnaud@duo-conseil.fr", "non", "Peu importe"]:
        live_stack.chat(sender, text)
    live_stack.chat(sender, "Oui, j'accepte")
    assert len([lead for lead in leads(live_stack) if lead["sender_id"] == sender]) == 1


def test_contact_refused_keeps_nothing_personal_anywhere(live_stack):
    sender = new_sender()
    live_stack.chat(sender, "je veux être rappelé par un consultant")
    for text in ["Zoé Secret", "Entreprise Confidentielle", "zoe.secret@exemple.fr", "0612345678", "le matin", "peu importe"]:
        live_stack.chat(sender, text)
    refused = texts(live_stack.chat(sender, "Non"))
    assert "06 34 22 31 71" in refused[0]
    assert not [lead for lead in leads(live_stack) if lead["sender_id"] == sender]
    dump = tracker_dump(live_stack, sender)
    for secret in ("Zoé Secret", "Zo\\u00e9 Secret", "Confidentielle", "zoe.secret", "0612345678", "+33612345678"):
        assert secret not in dump


@pytest.mark.parametrize("answers, verdict", [
    (["Un partenaire"] + ["Oui"] * 11, "solid"),
    (["Un partenaire"] + ["Oui"] * 9 + ["Non", "Je ne sais pas"], "not_sufficient"),
    (["Un partenaire", "Oui", "Non"] + ["Oui"] * 9, "mandatory_points_missing"),
    (["Un fournisseur"] + ["Non"] * 11, "not_a_partnership"),
])
def test_each_verdict_path_through_the_conversation(live_stack, answers, verdict):
    reply = answer_all(live_stack, new_sender(), answers)
    [payload] = customs(reply)
    assert payload["verdict"] == verdict
    assert len(texts(reply)) >= 3                            # verdict, next steps, offer


def test_a_field_can_be_corrected_before_consenting(live_stack):
    sender = new_sender()
    live_stack.chat(sender, "je voudrais qu'un consultant me rappelle")
    for text in ["Paul Durand", "Durand SA", "paul@durand.fr", "non merci", "Construire la relation"]:
        live_stack.chat(sender, text)
    which = live_stack.chat(sender, "Corriger une information")
    assert [b["title"] for m in which for b in m.get("buttons", [])][:3] == ["Nom", "Entreprise", "E-mail"]
    asked = texts(live_stack.chat(sender, "E-mail"))
    assert "e-mail" in asked[-1].lower()
    summary = texts(live_stack.chat(sender, "paul.durand@durand.fr"))
    assert french_spacing("• E-mail : paul.durand@durand.fr") in summary[0]
    live_stack.chat(sender, "oui")
    [lead] = [lead for lead in leads(live_stack) if lead["sender_id"] == sender]
    assert lead["email"] == "paul.durand@durand.fr" and lead["phone"] is None
