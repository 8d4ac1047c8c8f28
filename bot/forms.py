"""What both forms share: a visitor's message that is not an answer to the question on screen.

The readers (bot/contact.py, bot/diagnostic/dialogue.py) read every message first as an
answer. When one is not, the conversation's rules answer questions, « pourquoi ? » and
explicit commands; everything else said mid-form (a goodbye, a thank-you, something Marc did
not understand, a « stop » the NLU did not recognise) is an *aside*: Marc replies in a line,
keeps everything already said, and asks the same question again, or pauses the form when the
visitor wants to stop. Goodbye, thanks, out-of-scope or a low-confidence intent never close
a form nor erase what was typed.
"""
from __future__ import annotations

import re
from typing import Literal, Optional

from bot.nlp import fold

Aside = Literal["stop", "restart", "wait", "goodbye", "thanks", "why", "question", "unclear"]

# « stop », « pause », « je reviens plus tard », « finalement je ne veux pas laisser… »:
# the visitor leaves, whatever the NLU made of it (read on the folded text).
_STOP = re.compile(
    r"^(?:(?:ok|okay|bon|bah|ben|alors|euh|allez|non)\W+)?(?:stop|pause|stopp?e|arrete|on arrete|j'arrete|laisse[sz]? tomber|annule[rz]?)\b|"
    r"\bstop pour (?:moi|aujourd'hui|l'instant|le moment)\b|\b(?:la suite|on (?:continuera|finira|verra la suite)) (?:une )?autre fois\b"
    r"|\b(?:une autre fois|plus tard)\W+j'ai (?:une reunion|un rendez-vous|un rdv|un appel)\b|"
    r"\b(?:je (?:reviens|repasserai|reprendrai|finirai)\b.*\bplus tard|on (?:reprendra|verra ca) plus tard"
    r"|(?:ne |n')?(?:veux|souhaite|prefere) (?:pas|plus)(?: vous)? (?:laisser|donner|communiquer|continuer)"
    r"|pas envie de (?:laisser|donner|continuer)|on s'arrete la|j'arrete la"
    r"|(?:je fais|on fait|faire|petite) (?:une )?pause|(?:reprendre|revenir|finir|continuer|reviendrai|repasserai)\b.*\bplus tard"
    r"|je dois (?:filer|y aller|partir|vous laisser|te laisser)|(?:ne pas|pas) aller plus loin"
    r"|je vous laisse\s*(?:[,.!;]|$)|on reprendra\b)"
)
# « je veux tout reprendre à zéro », « on recommence »: a restart the NLU did not recognise.
_RESTART = re.compile(r"\b(?:(?:tout )?reprendre (?:a|de) zero|(?:tout )?recommencer|on recommence|repartir de zero)\b")


# « attendez deux minutes », « deux secondes, je vérifie », « je cherche mon numéro »: the visitor
# is busy finding the answer; Marc waits, the question stays.
_WAIT = re.compile(
    r"^(?:(?:euh|heu|ah|oh|bon|ok|alors|pardon)\W+)?(?:attends?|attendez|patiente[sz]?|minute|une minute|une seconde"
    r"|une sec|un instant|un moment|(?:deux|2|une|1|trois|3) (?:sec(?:onde)?s?|min(?:ute)?s?))\b"
    r"|\bje (?:cherche|verifie|regarde|retrouve) (?:mon|ma|mes|le|la|l'|laquelle|lequel|ou|dans)\b"
    r"|\b(?:deux|2|une|1) (?:sec(?:onde)?s?|min(?:ute)?s?)\W*$|\bje reflechis\b"
)


# « pourquoi vous me demandez ça ? », « c'est pour quoi faire ? », « vous allez m'envoyer de la pub ? »
_WHY = re.compile(
    r"\bpourquoi\b|\bpour quoi faire\b|\bc'est pour quoi\b|\ba quoi (?:ca|cela) (?:sert|va servir)\b"
    r"|\bvous (?:allez|comptez) (?:en faire|m'envoyer|me (?:spammer|demarcher|relancer))|\bc'est obligatoire\b"
)


def says_stop(text: str) -> bool:
    return bool(_STOP.search(fold(text)))


def says_restart(text: str) -> bool:
    return bool(_RESTART.search(fold(text)))


def says_wait(text: str) -> bool:
    return bool(_WAIT.search(fold(text)))


def aside_kind(text: str, intent: Optional[str]) -> Aside:
    """What an aside mid-form is, for Marc's one-line reply."""
    if intent == "restart" or says_restart(text):
        return "restart"
    if intent == "stop_session" or says_stop(text):
        return "stop"
    if says_wait(text):
        return "wait"
    if intent == "goodbye":
        return "goodbye"
    if intent == "thanks":
        return "thanks"
    from bot.answers import looks_like_question  # bot.answers imports the questionnaire

    if _WHY.search(fold(text)):
        return "why"
    if looks_like_question(text):
        return "question"
    return "unclear"
