"""The contact form's reading of free answers (bot/contact.py)."""
import pytest

from bot.contact import (
    CHOOSING,
    FIX_SLOT,
    NOTICE_RECAP,
    NOTICE_SLOT,
    SKIPPED,
    field_named,
    read_contact_turn,
    slot_for,
    summary_lines,
)


def read(field, text, intent="affirm", **slots):
    return read_contact_turn(field, text, intent, slots)


def test_name_and_company_are_kept_as_typed_and_capped():
    assert read("name", "  Arnaud   Martin ").slots == {"contact_name": "Arnaud Martin"}
    assert read("company", "Duo & Fils SARL").slots == {"contact_company": "Duo & Fils SARL"}
    assert len(read("name", "A" * 500).slots["contact_name"]) == 100


@pytest.mark.parametrize("text", ["", "   ", "123"])
def test_a_name_without_letters_is_asked_again_in_french(text):
    turn = read("name", text)
    assert turn.error and "nom" in turn.error and not turn.slots


def test_punctuation_alone_is_never_a_name():
    assert not read("name", "?!").slots


@pytest.mark.parametrize("text, expected", [
    ("Arnaud.Martin@Exemple.FR", "arnaud.martin@exemple.fr"),
    ("pas d'e-mail", SKIPPED),
    ("Pas d'e-mail", SKIPPED),
    ("non", SKIPPED),
    ("je préfère le téléphone", SKIPPED),
])
def test_email_valid_or_skipped(text, expected):
    assert read("email", text).slots == {"contact_email": expected}


@pytest.mark.parametrize("text", ["arnaud.martin", "arnaud@", "a@@b.fr", "arnaud martin@exemple.fr"])
def test_an_invalid_email_gets_the_reason_in_french(text):
    turn = read("email", text)
    assert turn.error and not turn.slots
    assert "e-mail" in turn.error or "@" in turn.error


@pytest.mark.parametrize("text", ["06 34 22 31 71", "06.34.22.31.71", "+33 6 34 22 31 71", "0634223171"])
def test_french_phone_numbers_are_normalised(text):
    assert read("phone", text).slots == {"contact_phone": "+33634223171"}


def test_an_invalid_phone_gets_the_reason():
    turn = read("phone", "06 34")
    assert turn.error and not turn.slots


def test_phone_may_be_skipped_only_with_an_email():
    with_email = read("phone", "non merci", contact_email="a@b.fr")
    assert with_email.slots == {"contact_phone": SKIPPED, "contact_callback": SKIPPED}
    without = read("phone", "non merci", contact_email=SKIPPED)
    assert without.error and "au moins un moyen" in without.error


def test_callback_and_need_are_optional():
    # Any time suits: an answer, kept in the visitor's words for the consultant.
    assert read("callback", "Peu importe").slots == {"contact_callback": "Peu importe"}
    assert read("callback", "quand vous voulez").slots == {"contact_callback": "quand vous voulez"}
    assert read("callback", "je passe cette question").slots == {"contact_callback": SKIPPED}
    assert read("callback", "mardi matin").slots == {"contact_callback": "mardi matin"}
    assert read("need", "Choisir le partenaire", intent="ask_partner_choice").slots == {"contact_need": "Choisir le partenaire"}


@pytest.mark.parametrize("text, expected", [
    ("Oui, j'accepte", "yes"), ("oui", "yes"), ("ok d'accord", "yes"), ("Non", "no"), ("non merci", "no"),
])
def test_consent_is_an_explicit_yes_or_no(text, expected):
    assert read("consent", text).slots == {"contact_consent": expected}


def test_an_unclear_consent_is_asked_again():
    turn = read("consent", "peut-être plus tard on verra")
    assert turn.error and not turn.slots


def test_correcting_a_field_empties_it_so_the_form_asks_it_again():
    assert read("consent", "Corriger").slots == {FIX_SLOT: CHOOSING}
    turn = read("consent", "E-mail", **{FIX_SLOT: CHOOSING})
    assert turn.slots == {"contact_email": None, FIX_SLOT: None, NOTICE_SLOT: NOTICE_RECAP}
    # Only the field corrected: the callback moment stays when the phone is corrected.
    phone = read("consent", "mon numéro", **{FIX_SLOT: CHOOSING})
    assert phone.slots == {"contact_phone": None, FIX_SLOT: None, NOTICE_SLOT: NOTICE_RECAP}


@pytest.mark.parametrize("text, field", [
    ("Nom", "name"), ("l'entreprise", "company"), ("mon adresse mail", "email"), ("Téléphone", "phone"),
    ("le créneau", "callback"), ("Votre besoin", "need"), ("bof", None),
])
def test_field_named(text, field):
    assert field_named(text) == field


@pytest.mark.parametrize("intent", ["stop_session", "goodbye", "restart", "why_asked", "start_diagnostic"])
def test_steering_messages_are_not_answers(intent):
    assert not read("name", "stop", intent=intent).is_answer


def test_a_question_on_the_text_is_not_taken_as_a_company_name():
    assert not read("company", "c'est quoi un partenariat ?", intent="ask_partnership_definition").is_answer


def test_summary_shows_what_will_be_kept_and_hides_skipped_fields():
    slots = {slot_for("name"): "Arnaud Martin", slot_for("company"): "Duo", slot_for("email"): SKIPPED,
             slot_for("phone"): "+33634223171", slot_for("callback"): "le matin", slot_for("need"): SKIPPED}
    assert summary_lines(slots) == [
        "• Nom : Arnaud Martin", "• Entreprise : Duo", "• Téléphone : 06 34 22 31 71", "• Créneau de rappel : le matin",
    ]


def test_a_button_is_an_answer_whatever_the_nlu_thought():
    turn = read_contact_turn("consent", "Corriger une information", "want_to_ask", {}, ("Oui, j’accepte", "Corriger une information", "Non"))
    assert turn.slots == {FIX_SLOT: CHOOSING}
    typed = read_contact_turn("consent", "Corriger une information", "want_to_ask", {})
    assert typed.slots == {FIX_SLOT: CHOOSING}  # typed: read as an answer to the question first


@pytest.mark.parametrize("field, text", [
    ("name", "Karim Stopper"), ("name", "Léa Abandon"), ("company", "Abandon Conseil"),
])
def test_a_name_that_sounds_like_stop_is_a_name(field, text):
    assert read(field, text, intent="stop_session").slots == {slot_for(field): text}


@pytest.mark.parametrize("field", ["name", "company"])
@pytest.mark.parametrize("text, intent", [
    ("merci beaucoup", "thanks"), ("au revoir", "goodbye"), ("ok", "affirm"), ("Bonjour Marc", "greet"),
])
def test_social_words_are_never_a_name_or_a_company(field, text, intent):
    assert read(field, text, intent=intent).is_answer is False


def test_stop_alone_still_leaves_the_name_question():
    assert read("name", "stop", intent="stop_session").is_answer is False


@pytest.mark.parametrize("field, text, expected", [
    ("name", "c Manon Leroy", {"name": "Manon Leroy"}),
    ("company", "raison sociale : Toitures Bernard", {"company": "Toitures Bernard"}),
    ("company", "une petite SAS qui s'appelle Verger du Lac", {"company": "Verger du Lac"}),
    ("company", "oh pardon, c'est la Brasserie du Port, et moi c'est Yann Kerbrat au fait",
     {"company": "Brasserie du Port", "name": "Yann Kerbrat"}),
    ("callback", "quand vous voulez sauf le vendredi", {"callback": "quand vous voulez sauf le vendredi"}),
])
def test_details_inside_sentences(field, text, expected):
    turn = read(field, text, intent="inform")
    assert turn.slots == {slot_for(k): v for k, v in expected.items()}


def test_a_question_about_the_company_field_is_not_a_company():
    assert read("company", "c'est pour faire quoi, le nom de la boîte ?", intent="why_asked").is_answer is False


@pytest.mark.parametrize("field, text, expected", [
    ("name", "Mme Hélène Garnier", {"name": "Hélène Garnier"}),
    ("name", "je m'appelle M. Bruno Lefort", {"name": "Bruno Lefort"}),
    ("name", "Lefort, Bruno Lefort", {"name": "Bruno Lefort"}),
    ("name", "je m'apelle Sonia Brun", {"name": "Sonia Brun"}),
    ("name", "Sonia Brun à l'appareil 😊", {"name": "Sonia Brun"}),
    ("name", "Moi c'est Sonia Brun, de la Menuiserie Brun à Nantes", {"name": "Sonia Brun", "company": "Menuiserie Brun"}),
    ("company", "je travaille pour Atelier Sud", {"company": "Atelier Sud"}),
    ("company", "notre boite c Garage Royer", {"company": "Garage Royer"}),
    ("company", "pas vraiment de nom, notez Royer Services", {"company": "Royer Services"}),
    ("company", "M. Bricolage", {"company": "M. Bricolage"}),
])
def test_names_and_companies_as_people_type_them(field, text, expected):
    turn = read(field, text, intent="inform")
    assert turn.slots == {slot_for(k): v for k, v in expected.items()}


def test_a_name_stated_outright_later_replaces_the_one_given_before():
    turn = read("company", "Garage Royer, et moi c'est Paul Royer", intent="inform", contact_name="Paul")
    assert turn.slots == {"contact_company": "Garage Royer", "contact_name": "Paul Royer"}
    # « appelez-moi… » is often a moment, never a correction of the name.
    turn = read("email", "paul@royer.fr, appelez-moi plutôt le matin", intent="inform", contact_name="Paul Royer")
    assert "contact_name" not in turn.slots


@pytest.mark.parametrize("text", ["laisse tomber, je m'arrête là", "ok stop pour moi"])
def test_leaving_at_the_name_is_not_a_name(text):
    assert read("name", text, intent="inform").is_answer is False


def test_free_text_leaves_on_an_intent_only_for_a_short_command():
    assert read("need", "repartir sur de bonnes bases avec eux", intent="restart").is_answer is True
    assert read("need", "recommencer", intent="restart").is_answer is False


# Issue 11 (eighth blind set): politeness is never an answer, whatever the field.
@pytest.mark.parametrize("field_name, text", [
    ("email", "merci et bonne continuation"), ("phone", "merci, à tout à l'heure"),
    ("callback", "super, merci beaucoup"), ("need", "merci à bientôt"),
])
def test_thanks_and_goodbyes_keep_the_form_and_record_nothing(field_name, text):
    turn = read_contact_turn(field_name, text, "thanks", {})
    assert not turn.is_answer and not turn.slots


@pytest.mark.parametrize("text", [
    "j'en ai aucune, je ne m'en sers pas", "le portable ira très bien", "pas envie de donner un mail",
    "je saute, appelez-moi",
])
def test_an_email_refused_in_a_sentence_is_skipped(text):
    assert read_contact_turn("email", text, "deny", {}).slots == {slot_for("email"): SKIPPED}


@pytest.mark.parametrize("text", ["parfait, on fait comme ça", "nickel pour moi", "très bien, je valide"])
def test_consent_in_other_words(text):
    assert read_contact_turn("consent", text, "affirm", {}).slots == {slot_for("consent"): "yes"}


def test_a_moment_with_thanks_is_still_a_moment():
    turn = read_contact_turn("callback", "merci, plutôt le jeudi matin", "thanks", {})
    assert turn.slots == {slot_for("callback"): "merci, plutôt le jeudi matin"}


@pytest.mark.parametrize("field, text, intent", [
    ("name", "une seconde svp", "nlu_fallback"),
    ("email", "attendez, je regarde dans mes mails", "nlu_fallback"),
    ("phone", "je cherche mon numéro pro", "out_of_scope"),
    ("company", "merci de m'accorder ce temps", "thanks"),
    ("callback", "merci, c'est sympa", "thanks"),
    ("need", "merci pour tout Marc", "thanks"),
    ("need", "non, laissez tomber", "deny"),
    ("need", "non merci, j'arrête là", "deny"),
])
def test_busy_thanks_or_leaving_is_not_an_answer(field, text, intent):
    assert read(field, text, intent=intent).is_answer is False


def test_waiting_words_inside_a_real_answer_keep_the_answer():
    assert read("name", "Attendez, c'est Jeanne Moreau").slots == {"contact_name": "Jeanne Moreau"}
    assert read("callback", "un moment en fin de matinée").slots == {"contact_callback": "un moment en fin de matinée"}


def test_surname_comma_first_name_is_one_name():
    assert read("name", "Moreau, Jeanne").slots == {"contact_name": "Jeanne Moreau"}
    assert read("name", "Jeanne Moreau, Moreau Transports").slots == {
        "contact_name": "Jeanne Moreau", "contact_company": "Moreau Transports"}


def test_a_moment_asked_politely_is_the_moment_but_a_question_on_the_firm_is_not():
    assert read("callback", "jeudi vers 11h, ça vous va ?", intent="nlu_fallback").slots == {
        "contact_callback": "jeudi vers 11h, ça vous va ?"}
    assert read("callback", "vous travaillez le samedi matin ?", intent="ask_business").is_answer is False


@pytest.mark.parametrize("text", ["je préfère le téléphone, pas de mail", "je veux pas donner mon mail"])
def test_an_email_declined_in_other_words_is_skipped(text):
    assert read("email", text, intent="deny").slots == {"contact_email": "-"}
