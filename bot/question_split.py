"""Two questions in one message: « quels sont les piliers, et comment on pilote ensuite ? ».

`question_clauses(text)` cuts a message into the questions it asks, so that each one can be
classified on its own (nlu_components/linear_intent_classifier.py) and both answered, in order.
A message counts as two questions only when each part is a question of its own: it ends with
« ? » or opens with a question word, and says at least two words. Everything else (one question
with context around it, « c'est quoi et pourquoi ? ») stays one message.
"""
from __future__ import annotations

import re

from bot.nlp import fold

MAX_QUESTIONS = 3
_QUESTION_WORDS = (
    r"comment|pourquoi|quel|quels|quelle|quelles|combien|quand|ou|qui|que|qu'est-ce|est-ce|c'est quoi|c quoi"
    r"|ckoi|ca sert|a quoi|faut-il|peut-on|doit-on|y a-t-il|et si|et le|et la|et les|et pour|et comment"
    r"|et pourquoi"
)
# Asking for something is a question too: « tu peux évaluer mon projet ? », « donne-moi le
# numéro », « explique-moi les piliers ».
_REQUEST_WORDS = (
    r"tu peux|tu pourrais|vous pouvez|vous pourriez|pouvez-vous|peux-tu|pourriez-vous|je peux|on peut"
    r"|donne|donnez|explique|expliquez|dis|dites|redis|redites|rappelle|rappelez|evalue|evaluez"
)
_OPENS_AS_QUESTION = re.compile(
    rf"^(?:et\s+|puis\s+|aussi\s+|alors\s+|sinon\s+|ensuite\s+|apres\s+|du coup\s+)*"
    rf"(?:{_QUESTION_WORDS}|{_REQUEST_WORDS})\b|^\w+-(?:t-)?(?:il|on|vous|tu)\b")
# A wish is a request only as a sentence of its own (« … ? Je voudrais aussi un rendez-vous. »),
# not inside the context (« on est une PME et on voudrait s'associer avec un café »).
_WISH = re.compile(r"^(?:je voudrais|j'aimerais|je veux|je souhaite|on voudrait|on aimerait)\b"
                   r".*\b(?:rendez-vous|rdv|rappel\w*|consultant|evalu\w*|diagnostic|numero|contact\w*)")
# A question word later in the part: « vous êtes qui chez Sales In Progress », « vous prenez combien ».
_ASKS_SOMEWHERE = re.compile(
    r"\b(?:qui|quoi|combien|comment|pourquoi)\s*$|\b(?:c'est quoi|c quoi|ca sert a quoi)\b"
    r"|^(?:vous|tu|on|ca|c'est)\s+\w+\s+(?:qui|quoi|combien|ou)\b")
# « …, et comment… », « … et pourquoi… », « … puis combien… », « …, et après tu peux… »: a
# second question joined to the first.
_JOINED = re.compile(
    rf"(?:,\s*|\s+)(?:et|puis|aussi|sinon|ensuite)(?:\s+(?:apres|ensuite|sinon|aussi|du coup|puis))?\s+"
    rf"(?=(?:{_QUESTION_WORDS}|{_REQUEST_WORDS})\b)")


def question_clauses(text: str) -> list[str]:
    """The questions of a message, in order; one element when it asks one question (or none)."""
    parts: list[str] = []
    for chunk in re.split(r"\?+|(?<=[.!])\s+", text):
        folded = fold(chunk)
        cuts = [0] + [m.start() for m in _JOINED.finditer(folded)] + [len(chunk)]
        parts += [chunk[a:b].strip(" ,;.!") for a, b in zip(cuts, cuts[1:])]
    parts = [p for p in parts if len(p.split()) >= 2]
    if len(parts) < 2:
        return [text]
    questions = [p for p in parts if _asks(text, p)]
    return questions[:MAX_QUESTIONS] if len(questions) >= 2 else [text]


def _asks(text: str, part: str) -> bool:
    folded = fold(part).lstrip(" ,")
    return bool(_OPENS_AS_QUESTION.search(folded) or _ASKS_SOMEWHERE.search(folded) or _WISH.search(folded)) \
        or _ends_with_mark(text, part)


def _ends_with_mark(text: str, part: str) -> bool:
    index = text.find(part)
    return index >= 0 and text[index + len(part):].lstrip(" ,;.!").startswith("?")


# A message that tells its situation around its question (« Nous sommes une PME de 15 personnes…
# Sur quoi faut-il être vigilant ? », or the question first: « Quelles sont les clés ? Je signe
# avec un distributeur la semaine prochaine… »): the context's words (the trade, the town, the
# partner) drown the question's in the classifier. The question is read on its own too.
MIN_CONTEXT_WORDS = 12
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def question_in_context(text: str) -> str | None:
    """The sentence that asks, when sentences of context come with it: the last one that asks
    after context, or else the first sentence when it alone asks and the context follows it."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    if len(sentences) < 2:
        return None
    asking = [i for i, s in enumerate(sentences) if s.endswith("?") or _OPENS_AS_QUESTION.search(fold(s))]
    if not asking:
        return None
    if asking == [0]:
        question, context = sentences[0], " ".join(sentences[1:])  # asked first, then explained
    elif asking[-1] == 0:
        return None
    else:
        question, context = sentences[asking[-1]], " ".join(sentences[: asking[-1]])
    if len(context.split()) < MIN_CONTEXT_WORDS or len(question.split()) < 2:
        return None
    return question
