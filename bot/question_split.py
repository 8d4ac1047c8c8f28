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
    r"comment|pourquoi|quel|quels|quelle|quelles|combien|quand|ou|qui|que|qu'est-ce|est-ce|c'est quoi|ca sert"
    r"|a quoi|faut-il|peut-on|doit-on|y a-t-il|et si|et le|et la|et les|et pour|et comment|et pourquoi"
)
_OPENS_AS_QUESTION = re.compile(rf"^(?:et\s+|puis\s+|aussi\s+|alors\s+)?(?:{_QUESTION_WORDS})\b|^\w+-(?:t-)?(?:il|on|vous|tu)\b")
# « …, et comment… », « … et pourquoi… », « … puis combien… »: a second question joined to the first.
_JOINED = re.compile(rf"(?:,\s*|\s+)(?:et|puis|aussi|sinon)\s+(?=(?:{_QUESTION_WORDS})\b)")


def question_clauses(text: str) -> list[str]:
    """The questions of a message, in order; one element when it asks one question (or none)."""
    parts: list[str] = []
    for chunk in re.split(r"\?+", text):
        folded = fold(chunk)
        cuts = [0] + [m.start() for m in _JOINED.finditer(folded)] + [len(chunk)]
        parts += [chunk[a:b].strip(" ,;.!") for a, b in zip(cuts, cuts[1:])]
    parts = [p for p in parts if len(p.split()) >= 2]
    if len(parts) < 2:
        return [text]
    questions = [p for p in parts if _OPENS_AS_QUESTION.search(fold(p).lstrip(" ,")) or _ends_with_mark(text, p)]
    return questions[:MAX_QUESTIONS] if len(questions) >= 2 else [text]


def _ends_with_mark(text: str, part: str) -> bool:
    index = text.find(part)
    return index >= 0 and text[index + len(part):].lstrip(" ,;.!").startswith("?")


# A message that tells its situation first, then asks (« Nous sommes une PME de 15 personnes…
# Sur quoi faut-il être vigilant ? »): the context's words (the trade, the town, the partner)
# drown the question's in the classifier. The question is read on its own too.
MIN_CONTEXT_WORDS = 12
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def question_after_context(text: str) -> str | None:
    """The last sentence that asks, when sentences of context come before it; else None."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    if len(sentences) < 2:
        return None
    asking = [i for i, s in enumerate(sentences) if s.endswith("?") or _OPENS_AS_QUESTION.search(fold(s))]
    if not asking or asking[-1] == 0:
        return None
    question = sentences[asking[-1]]
    context = " ".join(sentences[: asking[-1]])
    if len(context.split()) < MIN_CONTEXT_WORDS or len(question.split()) < 2:
        return None
    return question
