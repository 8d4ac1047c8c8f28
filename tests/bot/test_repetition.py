"""The same message twice never gets the same bubbles twice (bot/repetition.py)."""
from bot.knowledge import load_knowledge
from bot.repetition import hint_key, is_repeat, previous_turn
from bot.replies import Button, Reply


def events(*turns):
    out = []
    for user, bots in turns:
        out.append({"event": "user", "text": user})
        out += [{"event": "action", "name": "action_x"}] + [{"event": "bot", "text": b} for b in bots]
    return out


def test_the_previous_turn_is_read_from_the_events():
    history = events(("bonjour", ["Salut !", "On commence ?"]), ("c'est-à-dire ?", ["Je reformule."]), ("c'est-à-dire ?", []))
    assert previous_turn(history) == ("c'est-à-dire ?", ("Je reformule.",), "c'est-à-dire ?")
    assert previous_turn(events(("bonjour", []))) == (None, (), "bonjour")
    assert previous_turn(history + [{"event": "restart"}]) == (None, (), None)


def test_a_repeat_is_the_same_message_and_the_same_reply():
    reply = Reply(("Je reformule.",))
    assert is_repeat("C'est-à-dire ?", ("Je reformule.",), "c'est a dire", reply)
    assert not is_repeat("c'est-à-dire ?", ("Je reformule.",), "et le contrat ?", reply)
    assert not is_repeat("c'est-à-dire ?", ("Autre chose.",), "c'est-à-dire ?", reply)  # Marc says something new
    assert not is_repeat(None, (), "c'est-à-dire ?", reply)


def test_the_hint_fits_what_is_on_screen():
    k = load_knowledge()
    with_buttons = Reply(("Question ?",), (Button("Oui", "/affirm"),))
    assert hint_key(with_buttons, "diagnostic_form") == "repeated_buttons"
    assert hint_key(Reply(("Q ?",)), "diagnostic_form") == "repeated_diagnostic"
    assert hint_key(Reply(("Q ?",)), "contact_form") == "repeated_contact"
    assert hint_key(Reply(("Q ?",)), None) == "repeated_free"
    for key in ("repeated_buttons", "repeated_diagnostic", "repeated_contact", "repeated_free"):
        assert k.line(key)  # every hint is in the content file
