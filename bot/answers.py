"""Understanding the visitor's free answers to Marc's questions.

- ``parse_answer(text, question_key=None)`` → ``"yes" | "partly" | "no" | "unknown"``
- ``parse_relationship(text)`` → ``"partnership" | "client" | "supplier" | "unclear"``
- ``looks_like_question(text)`` → is this a question to Marc rather than an answer?

How an answer is read, in order:

1. A quick-reply title, clicked or typed ("Oui", "En partie", "Un client"…), wins.
2. SMS forms are expanded ("jsp" → "je sais pas", "pa" → "pas"), then spaCy gives
   every word its lemma. Words compare without accents or case, by surface or
   lemma ("signé" matches the cue "signer"), and a misspelt word one or two
   letters away from a cue word counts as that word ("accrod" → "accord").
3. Cue phrases are found: the question's own (``questionnaire.yml``) and the
   general ones below. Longer cues first, each word used once, up to two words
   may sit between the words of a cue, one for a set phrase ("en bonne partie"
   matches "en partie", "dans la grande distrib ensemble" is no "dans l'ensemble").
4. Negation is per clause (clauses end at punctuation and at "mais", "sauf"…).
   A negative word left over — pas, jamais, rien, aucun, ni, sans, and plus or
   personne after "ne" — turns a question cue around ("on n'a jamais signé" → no,
   "pas de déséquilibre" → yes); with nothing to turn around it means "no". Two
   left over, the second a "sans", cancel out ("aucune décision sans son accord");
   a lone "jamais" before a fact negates that fact, it is no "non" of its own.
5. The evidence is weighed: anything partial → partly ("oui, en partie");
   "je ne sais pas" → unknown; yes and no together → partly after a "mais"
   ("oui mais il décide de tout"), else what the question's own cues say
   ("oui, on n'a jamais eu de contrat" → no), else the leading "oui"/"non"
   ("oui, on n'a jamais eu de souci" → yes), else partly.

Hedged negatives read as "partly": "pas tout à fait", "pas toujours" say something
is there but not fully; "pas vraiment" is French for a polite no, read as "no". Plain
"not yet" ("pas encore", "toujours pas", "pas pour l'instant"), a wish ("il faudrait",
"on devrait") and "on verra" read as "no": it is not there today. Work in progress
("en train de", "on commence", "un début") and comparisons ("moins motivé que moi")
read as "partly", and so does a "oui" followed by a reservation ("oui, sauf sur les prix").
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Literal

from bot.diagnostic import Questionnaire, load_questionnaire
from bot.nlp import fold, get_nlp, normalise

log = logging.getLogger(__name__)

Answer = Literal["yes", "partly", "no", "unknown"]
Relationship = Literal["partnership", "client", "supplier", "unclear"]

MAX_GAP = 2  # words allowed between two words of a cue

# ------------------------------------------------------------------ general cues
# "particle": a bare answer word, never turned around by a negation, and the
# leading one decides between a "oui" and a "non" in the same answer.
# "content": says something about the situation, so a negation turns it around.
_YES_PARTICLES = """
oui | ouais | ouaip | yes | yep | yeah | ok | okay | oki | d'accord | bien sûr | bien entendu |
évidemment | évidement | bien évidemment | carrément | absolument | tout à fait | exactement | exact |
certainement | effectivement | clairement | naturellement | sûrement | forcément | assurément |
sans doute | sans aucun doute | sans hésiter | sans problème | sans souci | pas de souci |
pas de problème | aucun problème | aucun souci | c'est sûr | c'est certain | of course | affirmatif |
parfaitement | à fond | à 100 % | cent pour cent | plutôt oui | nickel | impec | impeccable | au top |
grave | trop bien | ça va | sans problème aucun | je pense que oui | je crois que oui |
bien sûr que oui | évidemment que oui | volontiers | tout à fait oui | certes | globalement oui |
dans l'ensemble oui | en gros oui
"""
_YES_CONTENT = """
c'est le cas | on a ça | c'est bon | ça marche | vraiment | complètement | totalement | entièrement |
tout le temps | pas mal | il me semble | très bien | jamais de problème |
jamais eu de problème | jamais de souci | jamais eu de souci | rien à redire | rien à signaler |
presque tous les jours | quasiment tous les jours | presque toujours | quasiment toujours
"""
_NO_PARTICLES = """
non | nan | nope | no | jamais | pas d'accord | je crois pas | je pense pas | pas du tout | du tout | absolument pas | certainement pas | évidemment pas |
bien sûr que non | évidemment que non | sûrement pas | aucunement | nullement | que dalle | nada | niet |
loin de là | je ne pense pas | je ne crois pas | je pense que non | je crois que non | que non |
non plus | rien du tout | pas le cas | vraiment pas | pas franchement | pas trop | pas tellement |
pas beaucoup | pas encore | toujours pas | pas pour l'instant | pas pour le moment | plutôt non | plutôt pas |
pas vraiment | pas réellement | clairement pas | clairement non | franchement pas | franchement non |
il faudrait | faudrait | on devrait | il faut qu'on | on verra |
on verra bien | pas défini | pas clair
"""
_PARTLY = """
en partie | partiellement | à moitié | plus ou moins | un peu | un petit peu | globalement | dans l'ensemble |
de moins en moins | moins que | pas encore tout | pas encore complètement |
pas tout à fait | pas complètement | pas totalement | pas entièrement | pas toujours | pas tout le temps |
ça dépend | cela dépend | parfois | des fois | de temps en temps | moyennement | bof | mouais | mitigé |
à peu près | presque | quasiment | en gros | dans les grandes lignes | oui et non | ni oui ni non |
pourquoi pas | pas évident | sur certains points | pas assez |
peut mieux faire | pas à 100 % | plutôt moyen | une partie | beaucoup moins | bien moins | nettement moins |
un peu moins | en théorie | théoriquement | sur le papier | en principe
"""
# Work in progress: "partly", unless the answer opens with a "non" ("pas encore, on en est
# au tout début" is a no).
_PROGRESS = """
en train de | on commence | ça démarre | tout juste | un début | au début | petit à petit | en cours |
on y travaille | ça commence
"""
_UNKNOWN = """
je ne sais pas | je sais pas | sais pas | je ne sais plus | je sais plus | aucune idée | pas d'idée |
pas la moindre idée | je n'en sais rien | j'en sais rien | je ne suis pas sûr | pas sûr | pas certain |
difficile à dire | dur à dire | bonne question | peut-être | je me demande | va savoir | qui sait |
je ne saurais dire | je ne saurais pas dire | je ne vois pas | no idea | idk | j'hésite |
ça reste à voir | on ne sait pas | faut que je demande | je dois demander | il faut que je vérifie |
je demanderai | à vérifier | pas sûr du tout | pas d'avis | sans avis | je ne peux pas dire | je n'ai pas la réponse |
je n'étais pas là | pas là à l'époque | avant mon arrivée | avant moi | répondre à sa place |
je ne peux pas répondre | trop tôt pour le dire | trop tôt pour dire | trop tôt pour savoir |
trop tôt pour le savoir | demander à mon associé | voir avec mon associé | faut voir avec | demander à mon collègue
"""
# Whole answers that are too ambiguous as parts of a sentence ("des moyens", "si on…").
_WHOLE_ANSWERS = {
    "si": "yes", "si si": "yes", "toujours": "yes", "moyen": "partly", "bof bof": "partly", "couci-couca": "partly",
    "so so": "partly", "ouais bof": "partly", "hmm": "unknown", "euh": "unknown", "?": "unknown",
}
_FILLER_ANSWERS = frozenset({"hmm", "euh", "?"})  # read as unknown, but worth asking again

_NEGATORS = frozenset({"pas", "jamais", "rien", "aucun", "aucune", "aucuns", "aucunes", "nullement",
                       "aucunement", "guere", "ni", "sans"})
_NEGATORS_AFTER_NE = frozenset({"plus", "personne"})  # "plus ou moins" and "une personne" are not negations
_NE = frozenset({"ne", "n"})
_CLAUSE_WORDS = frozenset({"mais", "sauf", "cependant", "pourtant", "toutefois", "neanmoins", "quoique",
                           "hormis", "excepte"})
# « sauf », « à part », « hormis »: what follows is an exception to what was said before.
_EXCEPTION_WORDS = frozenset({"sauf", "hormis", "excepte"})
# « même si », « bien que »: a concession, a reservation like « mais » ("un fournisseur, même
# si on l'appelle partenaire": what is conceded is not the answer).
_CONCESSIONS = (("meme", "si"), ("bien", "que"), ("bien", "qu"), ("meme", "s"))
# « si l'un de nous ne livre pas »: a condition, whose negation says nothing about today.
_CONDITION_WORDS = frozenset({"si", "s"})
_RELATIVES = frozenset({"que", "qu"})
# « je crois que rien n'est signé » is no relative clause: its negation is the answer.
_SAYING = frozenset({"croire", "crois", "penser", "pense", "dire", "dis", "dirais", "savoir", "sais", "trouver",
                     "trouve", "sembler", "semble", "esperer", "espere", "avouer", "etre", "est", "affirmer",
                     "craindre", "imaginer", "estimer", "voir", "vois", "constater", "impression", "peur", "sur",
                     "disons"})
_AFTER_CONDITION = frozenset({"il", "ils", "elle", "elles", "on", "l", "un", "une", "le", "la", "les", "nous", "vous",
                              "jamais", "personne", "quelqu", "ca", "c", "chacun", "mon", "notre", "leur", "je", "j"})
_FILLERS = frozenset({"ben", "bah", "beh", "be", "euh", "heu", "hum", "hmm", "mmh", "bon", "alors", "eh", "he",
                      "ah", "oh", "ecoute", "ecoutez", "franchement", "honnetement", "sincerement", "disons",
                      "enfin", "marc", "et", "mais", "ma", "foi", "bien"})

# SMS and keyboard-less spellings, expanded before spaCy reads the text.
_SMS = {
    "jsp": "je sais pas", "jsais": "je sais", "chai": "je sais", "chais": "je sais", "ché": "je sais",
    "jsé": "je sais", "chépa": "je sais pas", "chaipa": "je sais pas", "chaipas": "je sais pas",
    "sépa": "sais pas", "pa": "pas", "pk": "pourquoi", "pq": "pourquoi", "pkoi": "pourquoi",
    "pourkoi": "pourquoi", "koi": "quoi", "kwa": "quoi", "koa": "quoi", "cé": "c'est", "ct": "c'était",
    "cest": "c'est", "ke": "que", "kel": "quel", "kelle": "quelle", "keske": "qu'est-ce que",
    "kesako": "qu'est-ce que c'est", "késako": "qu'est-ce que c'est", "tt": "tout", "ts": "tous",
    "tjs": "toujours", "tjrs": "toujours", "bcp": "beaucoup", "vrmt": "vraiment", "vraimen": "vraiment",
    "ptet": "peut-être", "ptêt": "peut-être", "ptetre": "peut-être", "jai": "j'ai", "g": "j'ai",
    "ya": "il y a", "y'a": "il y a", "jsuis": "je suis", "chui": "je suis", "chuis": "je suis",
    "jcrois": "je crois", "jpense": "je pense", "dac": "d'accord", "dak": "d'accord", "dacc": "d'accord",
    "daccord": "d'accord", "d'acc": "d'accord", "nn": "non", "nope": "non", "oué": "ouais", "ouai": "ouais", "wé": "ouais",
    "ouep": "ouais", "wi": "oui", "ui": "oui", "mm": "même", "ms": "mais", "qd": "quand",
    "cmt": "comment", "cmnt": "comment", "pr": "pour", "ds": "dans", "pcq": "parce que",
    "pck": "parce que", "psk": "parce que", "jamé": "jamais", "jamai": "jamais", "ri1": "rien",
    "r1": "rien", "na": "n'a", "nest": "n'est", "mouai": "mouais", "ca": "ça",
}
_SMS_RE = re.compile(
    r"(?<![\w'-])(" + "|".join(sorted(map(re.escape, _SMS), key=len, reverse=True)) + r")(?![\w'-])",
    re.IGNORECASE,
)
# "c" alone is "c'est" ("c koi"), unless the visitor already wrote "c est".
_C_RE = re.compile(r"(?<![\w'-])c(?![\w'-])(?!\s*(?:est|etait|était)\b)", re.IGNORECASE)
_REPEATS = re.compile(r"([^\W\d_])\1{2,}|([iuoa])\2+(?=\b)")  # "ouiiii", "nonnn", "ouii"
_CLAUSE_PUNCT = frozenset(",;.!?:…()[]/\n")


# ------------------------------------------------------------------ text analysis


@dataclass(frozen=True)
class _Word:
    surface: str  # folded, apostrophe stripped: "m'" -> "m"
    forms: frozenset[str]  # surface and lemma, folded
    clause: int
    known: bool  # spaCy has a vector for it: a real word, be careful "correcting" it


@dataclass(frozen=True)
class _Analysis:
    words: tuple[_Word, ...]  # without "ne", which only licenses "plus"/"personne"
    ne_clauses: frozenset[int]
    contrast: bool  # a "mais" (or like) split the answer
    conditions: frozenset[int] = frozenset()  # clauses that are a condition: « si on ne livre pas »
    concessions: frozenset[int] = frozenset()  # clauses that concede: « même si on l'appelle partenaire »
    exceptions: frozenset[int] = frozenset()  # clauses that make an exception: « sauf sur les tarifs »


_fallback_warned = threading.Event()
_pipe_lock = threading.Lock()


def _expand(text: str) -> str:
    text = _REPEATS.sub(lambda m: m.group(1) or m.group(2), normalise(text))
    text = _SMS_RE.sub(lambda m: _SMS[m.group(1).lower()] if m.group(1).lower() in _SMS else m.group(1), text)
    return _C_RE.sub("c'est", text)


def _spacy_tokens(texts: list[str]) -> list[list[tuple[str, str, bool]]]:
    """(text, lemma, has a vector) per token, for each text, in one spaCy batch."""
    try:
        nlp = get_nlp()
    except (OSError, ImportError) as exc:  # the model is missing: degrade, but say so once
        if not _fallback_warned.is_set():
            _fallback_warned.set()
            log.warning("spaCy model unavailable (%s): answers are read without lemmas", exc)
        return [[(word, word, False) for word in re.findall(r"\w+'|\w+|[^\w\s]", text)] for text in texts]
    # spaCy does not promise thread-safe inference; an answer takes milliseconds, so a lock is cheap.
    with _pipe_lock:
        return [
            [(token.text, token.lemma_, not token.is_oov) for token in doc if not token.is_space]
            for doc in nlp.pipe(texts, disable=["parser", "ner"])
        ]


@lru_cache(maxsize=4096)
def _analyse(text: str) -> _Analysis:
    return _build_analysis(_spacy_tokens([_expand(text)])[0])


def _build_analysis(tokens: list[tuple[str, str, bool]]) -> _Analysis:
    words: list[_Word] = []
    ne_clauses: set[int] = set()
    conditions: set[int] = set()
    concessions: set[int] = set()
    exceptions: set[int] = set()
    clause, contrast = 0, False
    folded = [fold(raw).strip("'-") for raw, _, _ in tokens]
    skip = False
    for index, (raw, lemma, known) in enumerate(tokens):
        surface = folded[index]
        following = folded[index + 1] if index + 1 < len(folded) else ""
        if skip:
            skip = False
            continue
        if not surface or all(c in _CLAUSE_PUNCT for c in surface):
            clause += bool(surface or raw.strip() in _CLAUSE_PUNCT)
            continue
        if (surface, following) in _CONCESSIONS:
            clause += 1
            contrast = True
            concessions.add(clause)
            skip = True  # the « si » of « même si » is not a condition
            continue
        if surface in _CLAUSE_WORDS or (surface == "contre" and words and words[-1].surface == "par"):
            clause += 1
            contrast = True
            if surface in _EXCEPTION_WORDS:
                exceptions.add(clause)
            continue
        if (surface, following) == ("a", "part") and words:
            clause += 1  # « oui, à part l'administratif »
            contrast = True
            exceptions.add(clause)
            skip = True
            continue
        if surface in _RELATIVES and following in _NEGATORS | _NEGATORS_AFTER_NE and words \
                and not words[-1].forms & _SAYING:
            clause += 1  # « des marchés qu'aucun de nous ne peut décrocher seul »: the negation
            conditions.add(clause)  # is the relative clause's, not the answer's
            continue
        if surface in _CONDITION_WORDS and following in _AFTER_CONDITION and words:
            clause += 1
            conditions.add(clause)
            continue
        if not any(c.isalnum() for c in surface) and surface != "%":
            continue  # stray symbols: hyphens of "accord-cadre", quotes…
        if surface in _NE:
            ne_clauses.add(clause)
            continue
        forms = frozenset({surface, fold(lemma).strip("'-")} - {""})
        words.append(_Word(surface, forms, clause, known))
    return _Analysis(tuple(words), frozenset(ne_clauses), contrast, frozenset(conditions), frozenset(concessions),
                     frozenset(exceptions))


def _is_negator(word: _Word, analysis: _Analysis) -> bool:
    if word.clause in analysis.conditions:
        return False  # « des pénalités si l'un de nous ne livre pas »: not a negative answer
    return word.surface in _NEGATORS or (word.surface in _NEGATORS_AFTER_NE and word.clause in analysis.ne_clauses)


# ------------------------------------------------------------------ typo correction


def _distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap counts 1), or limit + 1 if beyond."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


class _Speller:
    """Maps a misspelt word to the one cue word it is closest to, if any."""

    def __init__(self, vocabulary: Iterable[str]):
        self.by_initial: dict[str, list[str]] = {}
        for word in set(vocabulary):
            if len(word) >= 5 and word.isalpha():
                self.by_initial.setdefault(word[0], []).append(word)
        self.known = frozenset(vocabulary)
        self.cache: dict[tuple[str, bool], str | None] = {}

    def correct(self, word: str, known_word: bool) -> str | None:
        if len(word) < 5 or word in self.known or not word.isalpha():
            return None
        key = (word, known_word)
        if len(self.cache) > 20_000:  # visitors invent words forever: stay bounded
            self.cache.clear()
        if key not in self.cache:
            # A real French word ("partir") is only taken for a cue word ("partie")
            # when long and one letter off; an unknown word gets more slack.
            limit = (1 if len(word) >= 7 else 0) if known_word else (2 if len(word) >= 8 else 1)
            best = sorted(
                (_distance(word, candidate, limit), candidate)
                for candidate in self.by_initial.get(word[0], ())
            )
            found = [c for d, c in best if d <= limit and d == best[0][0]] if best and limit else []
            self.cache[key] = found[0] if len(found) == 1 else None
        return self.cache[key]


# ------------------------------------------------------------------ cues and matching


@dataclass(frozen=True)
class _Cue:
    words: tuple[frozenset[str], ...]
    answer: str
    source: int  # 0 = the question's own cue, 1 = general: the question's wins a tie
    role: str  # "particle" | "content"
    negative: bool  # contains a negation word ("pas encore"): negates its clause


@dataclass(frozen=True)
class _Match:
    cue: _Cue
    positions: tuple[int, ...]
    clause: int


def _phrases(block: str) -> list[str]:
    return [phrase.strip() for phrase in block.split("|") if phrase.strip()]


_cue_cache: dict[str, tuple[frozenset[str], ...]] = {}


def _learn_cues(phrases: Iterable[str]) -> None:
    """Analyse cue phrases in one spaCy batch (≈ 5 times faster than one by one)."""
    new = sorted({phrase for phrase in phrases if phrase not in _cue_cache})
    for phrase, tokens in zip(new, _spacy_tokens([_expand(phrase) for phrase in new])):
        _cue_cache[phrase] = tuple(word.forms for word in _build_analysis(tokens).words)


def _make_cues(phrases: Iterable[str], answer: str, source: int, role: str) -> list[_Cue]:
    phrases = list(phrases)
    _learn_cues(phrases)
    cues = []
    for phrase in phrases:
        # The elided « l' » of a cue is that article only: « dans la restauration ensemble » is no
        # « dans l'ensemble » (its lemma « le » would match « la »).
        words = tuple(frozenset({"l"}) if "l" in forms else forms for forms in _cue_cache[phrase])
        if words:
            negative = any(forms & _NEGATORS for forms in words)
            cues.append(_Cue(words, answer, source, role, negative))
    return cues


class _Reader:
    """Everything compiled from one questionnaire: cues per question, speller."""

    def __init__(self, questionnaire: Questionnaire):
        _learn_cues(
            [p for block in (_YES_PARTICLES, _YES_CONTENT, _NO_PARTICLES, _PARTLY, _PROGRESS, _UNKNOWN)
             for p in _phrases(block)]
            + [p for question in questionnaire.questions for phrases in question.cues.values() for p in phrases]
        )
        self.general = (
            _make_cues(_phrases(_YES_PARTICLES), "yes", 1, "particle")
            + _make_cues(_phrases(_YES_CONTENT), "yes", 1, "content")
            + _make_cues(_phrases(_NO_PARTICLES), "no", 1, "particle")
            + _make_cues(_phrases(_PARTLY), "partly", 1, "particle")
            + _make_cues(_phrases(_PROGRESS), "partly", 1, "progress")
            + _make_cues(_phrases(_UNKNOWN), "unknown", 1, "particle")
        )
        self.by_question = {
            question.key: [
                cue
                for answer, phrases in question.cues.items()
                for cue in _make_cues(phrases, answer, 0, "content")
            ]
            for question in questionnaire.questions
        }
        self.quick = {
            question.key: {fold(reply.title).strip(" .!"): reply.value for reply in question.quick_replies}
            for question in questionnaire.questions
        }
        vocabulary = {form for cue in self.all_cues() for forms in cue.words for form in forms}
        self.speller = _Speller(vocabulary)

    def all_cues(self) -> Iterable[_Cue]:
        yield from self.general
        for cues in self.by_question.values():
            yield from cues

    def forms(self, word: _Word) -> frozenset[str]:
        corrected = self.speller.correct(word.surface, word.known)
        return word.forms | {corrected} if corrected else word.forms

    def matches(self, analysis: _Analysis, cues: list[_Cue]) -> list[_Match]:
        """Non-overlapping cue occurrences: longest first, then tightest, the question's own on a tie."""
        forms = [self.forms(word) for word in analysis.words]
        found = []
        for cue in cues:
            for start, word_forms in enumerate(forms):
                if cue.words[0] & word_forms:
                    positions = _extend(cue, start, forms, analysis.words)
                    if positions:
                        found.append(_Match(cue, positions, analysis.words[start].clause))
        # Longest first; at equal length the tighter one ("nous achètent" before "eux … achètent"
        # read as "lui achète"), then the question's own.
        found.sort(key=lambda m: (-len(m.positions), m.positions[-1] - m.positions[0], m.cue.source, m.positions[0]))
        used: set[int] = set()
        accepted = []
        for match in found:
            if used.isdisjoint(match.positions):
                used.update(match.positions)
                accepted.append(match)
        return sorted(accepted, key=lambda m: m.positions[0])


def _extend(cue: _Cue, start: int, forms: list[frozenset[str]], words: tuple[_Word, ...]) -> tuple[int, ...] | None:
    positions = [start]
    # A particle is a set phrase: one word may slip in (« en bonne partie »), not a whole
    # phrase (« dans la grande distrib ensemble » is no « dans l'ensemble »).
    gap = 1 if cue.role == "particle" else MAX_GAP
    for cue_forms in cue.words[1:]:
        last = positions[-1]
        for position in range(last + 1, min(last + 2 + gap, len(words))):
            if words[position].clause != words[start].clause:
                return None
            if cue_forms & forms[position]:
                positions.append(position)
                break
        else:
            return None
    return tuple(positions)


_readers: dict[int, tuple[Questionnaire, _Reader]] = {}
_readers_lock = threading.Lock()


def _reader(questionnaire: Questionnaire | None) -> tuple[Questionnaire, _Reader]:
    questionnaire = questionnaire or load_questionnaire()
    entry = _readers.get(id(questionnaire))
    if entry is None or entry[0] is not questionnaire:
        with _readers_lock:
            entry = _readers.get(id(questionnaire))
            if entry is None or entry[0] is not questionnaire:
                # Storing the questionnaire keeps it alive, so its id cannot be reused.
                entry = _readers[id(questionnaire)] = (questionnaire, _Reader(questionnaire))
    return entry


def warm_up(questionnaire: Questionnaire | None = None) -> None:
    """Load spaCy and compile the cues now (≈ 5 s), e.g. when the action server starts,
    rather than during the first visitor's first answer."""
    _reader(questionnaire)
    _analyse("oui")


def _bare(text: str) -> str:
    """The whole answer, folded, without end punctuation: for exact comparisons."""
    return fold(normalise(text)).strip(" .!…").strip()


# ------------------------------------------------------------------ public API


def parse_answer(text: str, question_key: str | None = None, *, questionnaire: Questionnaire | None = None) -> Answer:
    """Read a free answer to a yes/partly/no question (see the module docstring)."""
    return _read_answer(text, question_key, questionnaire)[0]


def parse_relationship(text: str, *, questionnaire: Questionnaire | None = None) -> Relationship:
    """Partner, client or supplier? Two kinds named at once, or none, is "unclear"."""
    return _read_relationship(text, questionnaire)[0]


def understood(text: str, question_key: str | None = None, *, questionnaire: Questionnaire | None = None) -> bool:
    """Did the text answer this question? "Je ne sais pas" did (read as unknown),
    "blabla" did not: the form asks that one again, differently. A question to Marc
    answers only with a plain "oui"/"non"… in it ("oui, pourquoi ?"): "c'est quoi un
    contrat ?" mentions the contract but answers nothing."""
    asking = looks_like_question(text)
    if question_key == "relationship":
        return not asking and _read_relationship(text, questionnaire)[1]
    _, said_something, plain_answer = _read_answer(text, question_key, questionnaire)
    return plain_answer if asking else said_something


def _read_answer(
    text: str, question_key: str | None, questionnaire: Questionnaire | None
) -> tuple[Answer, bool, bool]:
    """(answer, whether anything was understood, whether a plain answer word was given)."""
    questionnaire, reader = _reader(questionnaire)
    if question_key == "relationship":
        raise ValueError("the relationship question is read with parse_relationship()")
    if question_key is not None and question_key not in reader.by_question:
        raise ValueError(f"unknown question key {question_key!r}; expected one of {', '.join(reader.by_question)}")
    bare = _bare(text)
    if not bare:
        return "unknown", False, False
    quick = reader.quick[question_key or "autonomy"]  # all yes/no questions share the buttons
    if bare in quick:
        return quick[bare], True, True  # type: ignore[return-value]
    whole = _REPEATS.sub(lambda m: m.group(1) or m.group(2), bare)
    if whole in _WHOLE_ANSWERS:
        meaningful = whole not in _FILLER_ANSWERS
        return _WHOLE_ANSWERS[whole], meaningful, meaningful  # type: ignore[return-value]

    analysis = _analyse(text)
    cues = reader.by_question.get(question_key, []) + reader.general
    matches = reader.matches(analysis, cues)
    answer = _weigh(analysis, matches, question_key)
    plain = any(match.cue.role == "particle" for match in matches)
    return answer, bool(matches) or answer != "unknown", plain  # type: ignore[return-value]


def _weigh(analysis: _Analysis, matches: list[_Match], question_key: str | None = None) -> str:
    matches = _particles_that_frame_a_fact(analysis, matches)
    matched = {position for match in matches for position in match.positions}
    free_negation = _negated_clauses(analysis, matched)
    negated = free_negation | {m.clause for m in matches if m.cue.negative and m.cue.answer == "no"}

    evidence: list[str] = []
    clauses: dict[str, set[int]] = {"yes": set(), "no": set()}  # where each yes and no was said
    specific: set[str] = set()  # what the question's own cues say, once turned around
    turned: set[int] = set()
    for match in matches:
        answer = match.cue.answer
        if match.cue.role == "particle" and _said(analysis, match) == "non plus" \
                and any(clause < match.clause for clause in negated):
            continue  # « jamais je le laisserais décider à ma place, et lui non plus »: the same again
        # A cue that carries its own negation ("rien d'écrit") already says what it means.
        turnable = match.cue.role == "content" and not match.cue.negative and answer in ("yes", "no")
        if turnable and match.clause in negated:
            answer = "no" if answer == "yes" else "yes"  # "pas de contrat", "pas de déséquilibre"
            turned.add(match.clause)
        evidence.append(answer)
        if answer in clauses and (match.cue.role != "particle" or match.cue.negative
                                  or (_clause_has_a_subject(analysis, match) and match.clause not in free_negation)):
            clauses[answer].add(match.clause)  # facts, not the « oui »/« non » that frame them
        if match.cue.source == 0 and answer in ("yes", "no"):
            specific.add(answer)
    evidence += ["no"] * len(free_negation - turned)  # "on n'a rien", "jamais"
    # « On en a parlé, mais rien n'est calé »: for piloting, a plan is already something.
    intentions = frozenset() if question_key in _WISH_IS_THE_ANSWER else _INTENTION | _TALK

    if not evidence:
        return "unknown"
    opening = min(matches, key=lambda m: m.positions[0]) if matches else None
    if opening is not None and opening.cue.answer == "unknown" and opening.positions[0] <= 1 \
            and opening.clause == 0:
        return "unknown"  # « aucune idée, on s'est vus deux fois »: the doubt said first is the answer
    leading = _leading_particle(analysis, matches)
    if leading == "no" and _opens_with_a_strong_no(analysis, matches):
        return "no"  # "pas du tout, on fait tous un peu de tout": the answer is given first
    only_the_questions_partly = all(
        m.cue.source == 0 or m.cue.role == "progress" for m in matches if m.cue.answer == "partly"
    )
    if "partly" in evidence and only_the_questions_partly and (
        leading == "no" or (specific == {"no"} and turned & free_negation and "yes" not in evidence)
    ):
        return "no"  # "non, on se parle quand il y a un souci", « … quand ça coince, pas de point régulier »
    if "partly" in evidence:
        return "partly"
    if "unknown" in evidence:
        if _first_clause_sure_then_doubt(analysis, matches):
            return "partly"  # "nous oui, eux je ne suis pas sûr": one side only
        return "unknown"  # "je ne sais pas si on a un contrat": honest doubt beats a stray cue
    if set(evidence) == {"no"} and analysis.contrast and _something_before_the_contrast(analysis, negated, intentions, matches):
        return "partly"  # "on en a parlé, mais rien n'est calé": some of it, not all
    if set(evidence) == {"yes"} and _exception_of_substance(analysis, clauses["yes"]):
        return "partly"  # « autonomes, sauf sur les prix »: yes, with an exception
    if set(evidence) == {"yes"} and analysis.contrast and leading == "yes" \
            and _reservation_after_contrast(analysis, clauses["yes"]):
        return "partly"  # "oui, sauf sur les prix", "oui mais il reste des zones grises"
    if "yes" in evidence and "no" in evidence:
        if analysis.contrast and _intention_then_nothing(analysis, negated, intentions):
            return "no"  # "on a prévu de mutualiser mais rien n'a bougé": not started
        if analysis.contrast:
            return "partly"  # "oui mais c'est lui qui décide de tout"
        # « lui a tout à gagner, moi pas grand-chose »: a side named, then denied, is a « no » clause
        clauses["no"] |= {c for c in free_negation - turned if _opens_with_a_side(analysis, c)}
        if leading is None and clauses["yes"] and clauses["no"] and clauses["yes"].isdisjoint(clauses["no"]):
            if any(m.clause in clauses["no"] and m.cue.role == "particle" and _said(analysis, m) in _STRONG_NO
                   and _opens_with_a_side(analysis, m.clause) for m in matches):
                return "no"  # « moi j'y mets du temps, lui rien du tout »: one side gives nothing at all
            return "partly"  # "pour la technique c'est réparti, pour le commercial pas encore": one side each
        if len(specific) == 1:
            return specific.pop()  # "oui, on n'a jamais eu de contrat": the facts beat the particle
        return leading or "partly"
    return evidence[0]


def _particles_that_frame_a_fact(analysis: _Analysis, matches: list[_Match]) -> list[_Match]:
    """Particles that only frame the fact after them in their clause: a lone « jamais » (or
    « rien », « aucun ») negates it (« jamais eu l'impression de me faire avoir » is no « non »),
    a leading « en gros » sums it up (« en gros compléter nos compétences » is no « en partie »)."""
    def frames_a_later_fact(match: _Match) -> bool:
        said = _said(analysis, match)
        framing = (len(match.positions) == 1 and said in _NEGATORS) or (said == "en gros" and match.positions[0] == 0)
        return (match.cue.role == "particle" and framing
                and any(other.cue.role == "content" and not other.cue.negative and other.clause == match.clause
                        and other.positions[0] > match.positions[-1] for other in matches))
    return [match for match in matches if not frames_a_later_fact(match)]


def _negated_clauses(analysis: _Analysis, matched: set[int]) -> set[int]:
    """Clauses with a negative word left over by the cues. Two of them, the second a « sans »,
    cancel out: « aucune décision ne se prend sans son accord » says his accord is always needed."""
    negators: dict[int, list[str]] = {}
    for index, word in enumerate(analysis.words):
        if index not in matched and _is_negator(word, analysis):
            negators.setdefault(word.clause, []).append(word.surface)
    return {
        clause for clause, words in negators.items()
        if not (len(words) == 2 and words[1] == "sans" and words[0] not in ("sans", "ni"))
    }


_SIDES = frozenset({"moi", "lui", "eux", "elle", "elles", "nous", "toi", "vous"})


def _opens_with_a_side(analysis: _Analysis, clause: int) -> bool:
    first = next((w for w in analysis.words if w.clause == clause and w.surface not in _FILLERS), None)
    return first is not None and first.surface in _SIDES


# Answers that open with these leave no doubt, whatever nuance follows.
_STRONG_NO = frozenset({"pas du tout", "absolument pas", "clairement pas", "clairement non", "certainement pas",
                        "franchement pas", "loin de la", "rien du tout", "du tout"})


def _opens_with_a_strong_no(analysis: _Analysis, matches: list[_Match]) -> bool:
    first = next((m for m in matches if m.cue.role == "particle"), None)
    if first is None:
        return False
    said = " ".join(analysis.words[i].surface for i in range(first.positions[0], first.positions[-1] + 1))
    return said in _STRONG_NO


def _said(analysis: _Analysis, match: _Match) -> str:
    return " ".join(analysis.words[i].surface for i in match.positions)


def _first_clause_sure_then_doubt(analysis: _Analysis, matches: list[_Match]) -> bool:
    """A yes in one clause, a doubt in a later one: the answer holds for one side only
    (but « il me semble…, mais je n'étais pas là » is a doubt from the start)."""
    if _opens_with_a_hedge(analysis):
        return False  # « je crois qu'il y a un accord cadre…, mais je ne suis pas sûr »: doubt throughout
    yes = [m.clause for m in matches if m.cue.answer == "yes" and not _hedged(analysis, m)]
    doubt = [m.clause for m in matches if m.cue.answer == "unknown"]
    return bool(yes and doubt) and min(yes) < min(doubt)


def _clause_has_a_subject(analysis: _Analysis, match: _Match) -> bool:
    """« des moyens oui, du temps pas vraiment »: a « oui » about something, unlike a lone
    « , non, » that only confirms what was said."""
    return any(
        word.clause == match.clause and index not in match.positions and word.surface not in _FILLERS
        for index, word in enumerate(analysis.words)
    )


def _hedged(analysis: _Analysis, match: _Match) -> bool:
    return _said(analysis, match) in _HEDGES


_HEDGES = frozenset({"il me semble", "me semble", "je crois", "je pense", "il semble"})


def _opens_with_a_hedge(analysis: _Analysis) -> bool:
    opening = " ".join(w.surface for w in analysis.words[:3] if w.surface not in _FILLERS)
    return any(opening.startswith(hedge) for hedge in _HEDGES)


def _something_before_the_contrast(
    analysis: _Analysis, negated: set[int], intentions: frozenset[str], matches: list[_Match]
) -> bool:
    """Words of substance, not negated, before the "mais" of an answer whose negation comes
    after it: "on a regardé ses comptes mais pas sa capacité" (but not "non mais non")."""
    first_contrast = next((w.clause for w in analysis.words if w.clause > 0), None)
    if first_contrast is None:
        return False
    before = [w for w in analysis.words if w.clause < first_contrast and w.surface not in _FILLERS]
    if any(m.clause < first_contrast for m in matches):
        return False  # « on en a parlé, mais rien de concret »: what comes first is a no already
    return len(before) >= 2 and not any(w.clause in negated for w in before) \
        and not any(w.surface in ("non", "nan", "no") for w in before) \
        and not any(w.forms & intentions for w in before)  # « on a prévu de le faire mais rien n'a commencé »: no


def _intention_then_nothing(analysis: _Analysis, negated: set[int], intentions: frozenset[str]) -> bool:
    first_contrast = next((w.clause for w in analysis.words if w.clause > 0), None)
    if first_contrast is None:
        return False
    intends = any(w.forms & intentions for w in analysis.words if w.clause < first_contrast)
    return intends and any(clause >= first_contrast for clause in negated)


# An intention is not a start: « on a prévu… mais rien », « on voudrait… mais pas encore ».
_INTENTION = frozenset({"prevoir", "prevu", "vouloir", "voulu", "voudrait", "envisager", "envisage", "compter",
                        "souhaiter", "souhaite", "aimer", "aimerait", "esperer", "devoir", "devrait", "projet",
                        "promettre", "promis"})
# Talking is not doing either: « on en a parlé autour d'un café, mais rien de concret ».
_TALK = frozenset({"parler", "parle", "discuter", "discute", "evoquer", "evoque"})
# Questions whose answer *is* a wish or a plan: « on veut tous les deux grandir, mais… »
# (common goal), « c'est prévu dans le contrat, mais jamais fait » (piloting) say something.
_WISH_IS_THE_ANSWER = frozenset({"common_goal", "shared_desire", "piloting"})


def _exception_of_substance(analysis: _Analysis, yes_clauses: set[int]) -> bool:
    """A « sauf… » / « à part… » after the yes, naming something (not « sauf erreur »), in a
    clause that does not itself say yes."""
    return any(
        sum(1 for w in analysis.words if w.clause == clause and w.surface not in _FILLERS) >= 2
        and clause not in yes_clauses and any(c < clause for c in yes_clauses | {0})
        for clause in analysis.exceptions
    )


def _reservation_after_contrast(analysis: _Analysis, yes_clauses: set[int]) -> bool:
    """A "mais"/"sauf" followed by something of substance: a reservation, not "oui mais bon",
    nor a last clause that says yes again ("on se consulte mais personne n'impose rien")."""
    later = [w for w in analysis.words if w.clause > analysis.words[0].clause and w.surface not in _FILLERS]
    return len(later) >= 2 and later[-1].clause not in yes_clauses


def _leading_particle(analysis: _Analysis, matches: list[_Match]) -> str | None:
    """The "oui"/"non" the answer opens with, after fillers ("ben", "bon", "euh"…)."""
    for match in matches:  # in text order
        if match.cue.role == "particle" and match.cue.answer in ("yes", "no"):
            opening = analysis.words[: match.positions[0]]
            if all(word.surface in _FILLERS for word in opening):
                return match.cue.answer
        return None  # the first cue is not a particle: nothing leads
    return None


def _read_relationship(text: str, questionnaire: Questionnaire | None) -> tuple[Relationship, bool]:
    questionnaire, reader = _reader(questionnaire)
    bare = _bare(text)
    if not bare:
        return "unclear", False
    quick = reader.quick["relationship"]
    if bare in quick:
        return quick[bare], True  # type: ignore[return-value]
    analysis = _analyse(text)
    cues = reader.by_question["relationship"] + [cue for cue in reader.general if cue.answer == "unknown"]
    matches = reader.matches(analysis, cues)
    matched = {position for match in matches for position in match.positions}
    negated = _negated_clauses(analysis, matched)
    # "aucune idée, c'est mon associé qui gère": doubt said first is the answer.
    if matches and matches[0].cue.answer in ("unknown", "unclear"):
        return "unclear", True
    # "ce n'est pas un client, c'est un partenaire": the negated clause does not count, nor
    # what is conceded ("un fournisseur, même si on l'appelle partenaire").
    found = {m.cue.answer for m in matches if m.clause not in negated and m.clause not in analysis.concessions}
    kinds = found - {"unclear", "unknown"}
    if len(kinds) == 1:
        return kinds.pop(), True  # type: ignore[return-value]
    corrected = _kind_after_the_contrast(analysis, matches, negated)
    if corrected and not found & {"unclear", "unknown"}:
        return corrected, True  # type: ignore[return-value]
    denied = {m.cue.answer for m in matches if m.clause in negated} & set(_KINDS)
    if not kinds and len(denied) == 2 and not found & {"unclear", "unknown"}:
        return next(k for k in _KINDS if k not in denied), True  # "ni client ni fournisseur"
    # "un peu des deux", "je ne sais pas", "client… ou partenaire, j'hésite": understood as
    # unclear. Two kinds at once ("mon client et mon fournisseur") or nothing at all: worth
    # asking differently.
    return "unclear", bool(found & {"unclear", "unknown"})


_KINDS = ("partnership", "client", "supplier")


def _kind_after_the_contrast(analysis: _Analysis, matches: list[_Match], negated: set[int]) -> str | None:
    """« on l'appelle partenaire, mais en vrai il nous achète nos prestations »: what follows the
    « mais » corrects what came before (unless it adds to it: « mais aussi »)."""
    if not analysis.contrast:
        return None
    contrast = next((w.clause for w in analysis.words if w.clause > 0), None)
    if contrast is None or any(w.surface == "aussi" and w.clause >= contrast for w in analysis.words):
        return None
    after = {m.cue.answer for m in matches if m.clause >= contrast and m.clause not in negated} & set(_KINDS)
    before = {m.cue.answer for m in matches if m.clause < contrast} & set(_KINDS)
    return after.pop() if len(after) == 1 and before and before != after else None


# ------------------------------------------------------------------ questions to Marc

_QUESTION_ANYWHERE = re.compile(
    r"c'?est quoi|veut dire quoi|ca (?:veut dire|signifie)\s*(?:quoi|\?)|sert a quoi|que veut dire|que signifie"
    r"|qu'est[- ]ce|qu'entend|qu'appel|pourquoi cette question|pourquoi (?:tu|vous) (?:me )?(?:demande|pose)"
    r"|je (?:ne )?comprends? pas|pas compris|c'?est[- ]a[- ]dire\s*(?:\?|$)|kesako"
    r"|expliquez?[- ](?:moi|nous)|tu m'expliques|vous m'expliquez|m'expliquer|(?:un|par) exemple\s*\?"
)
_QUESTION_START = re.compile(
    r"(?:pourquoi|comment|est[- ]ce que|est[- ]ce qu'|a quoi|quel|quelle|quels|quelles|combien|lequel|laquelle"
    r"|peux-tu|pouvez-vous|tu peux|vous pouvez|tu pourrais|vous pourriez|dis-moi|dites-moi|donne-moi|donnez-moi"
    r"|que faire|que dois|que faut|qu'est|ou est|ou sont|qui est|qui decide|quoi)\b"
)
_NOT_A_QUESTION = re.compile(
    r"^(?:pourquoi pas|qui sait|comment dire|quand meme|quoi qu'il en soit|quel que soit|quelle que soit"
    r"|quelle question|quel dommage)\b"
)
# Verb-subject inversion: "faut-il", "peut-on", "a-t-il", "avez-vous" (but not "rendez-vous").
_INVERSION = re.compile(r"\b(?!rendez-vous)\w+-(?:t-)?(?:tu|vous|il|elle|on|ils|elles|je|nous)\b")
_LEAD_WORDS = re.compile(r"^(?:(?:et|mais|ok|okay|d'accord|euh|bon|alors|ah|oh|hmm|attends|attendez|au fait"
                         r"|sinon|marc|dis|dites|oui|non|ouais|ben|bah|juste|enfin)\b[\s,.!]*)+")


def looks_like_question(text: str) -> bool:
    """A question to Marc ("pourquoi tu demandes ça ?") rather than an answer to his."""
    folded = fold(_expand(text)).strip()
    if not folded:
        return False
    if _NOT_A_QUESTION.match(folded):
        return False
    if _QUESTION_ANYWHERE.search(folded) or _INVERSION.search(folded):
        return True
    body = _LEAD_WORDS.sub("", folded)
    if _QUESTION_START.match(body) and not _NOT_A_QUESTION.match(body):
        return True
    if "?" in folded:
        # "oui ?", "en partie ?", "un client ?": a hesitant answer, not a question.
        words = re.findall(r"\w+", folded)
        return not (len(words) <= 3 and _is_bare_answer(text))
    return False


def opens_with_answer(text: str) -> bool:
    """« Oui, pourquoi ? », « non, c'est grave ? »: an answer comes first, then a question."""
    return bool(re.match(r"\W*(?:oui|ouais|non|nan|pas du tout|en partie|bien sur|si)\b", fold(_expand(text))))


def _is_bare_answer(text: str) -> bool:
    cleaned = text.replace("?", " ")
    if _bare(cleaned) in {key for quick in _reader(None)[1].quick.values() for key in quick}:
        return True
    return parse_answer(cleaned) != "unknown" or parse_relationship(cleaned) != "unclear"
