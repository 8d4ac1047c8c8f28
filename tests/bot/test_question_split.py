"""Cutting a message into its questions (bot/question_split.py)."""
import pytest

from bot.question_split import question_clauses


@pytest.mark.parametrize("text, count", [
    ("quels sont les piliers et comment on pilote ensuite ?", 2),
    ("C'est quoi un partenariat ? Et pourquoi en faire ?", 2),
    ("comment choisir son partenaire ? le contrat, il sert à quoi ?", 2),
    ("c'est quoi les quatre piliers ?", 1),
    ("Nous sommes une PME de 15 personnes, on lance un partenariat. Sur quoi faut-il être vigilant ?", 1),
    ("je veux savoir comment piloter et évaluer mon partenariat", 1),
    ("bonjour", 1),
    # a request or small talk with a question (issue 12)
    ("Explique-moi les quatre piliers, et après tu peux évaluer mon projet ?", 2),
    ("Quels sont les risques ? Je voudrais aussi un rendez-vous avec un consultant.", 2),
    ("vous êtes qui au juste, et c quoi un partenariat ?", 2),
    ("t'es un robot ? et sinon c'est quoi les piliers", 2),
    # context, not a second question
    ("On est une PME et on voudrait s'associer avec un café. Comment bien choisir ?", 1),
    ("J'aimerais grandir vite sans lever de fonds. Pourquoi faire un partenariat ?", 1),
    ("Vous pouvez regarder notre projet et le comparer aux piliers ?", 1),
])
def test_two_questions_are_found_and_one_stays_one(text, count):
    assert len(question_clauses(text)) == count


def test_the_questions_keep_their_order():
    first, second = question_clauses("quels sont les piliers et comment on pilote ensuite ?")
    assert "piliers" in first and "pilote" in second


def test_the_question_among_sentences_of_context():
    from bot.question_split import question_in_context

    text = ("On est un petit atelier de céramique à Limoges, trois personnes, et une boutique de déco "
            "veut vendre nos pièces. Comment savoir si c'est un vrai partenariat ?")
    assert question_in_context(text) == "Comment savoir si c'est un vrai partenariat ?"
    assert question_in_context("Quels sont les piliers ?") is None  # no context
    assert question_in_context("Bonjour. Les piliers ?") is None  # too little context to drown it
    assert question_in_context("Nous sommes une PME de quarante personnes dans le bâtiment, à Lyon, "
                                  "avec deux associés.") is None  # no question
    asked_first = ("Comment on choisit le bon partenaire ? On fabrique des escaliers en bois dans le Jura et "
                   "un négociant voudrait distribuer nos modèles.")
    assert question_in_context(asked_first) == "Comment on choisit le bon partenaire ?"
    assert question_in_context("Comment on choisit ? Je ne sais pas.") is None  # too little context
