"""Contact details taken out of the visitor's sentences.

Visitors do not type bare values: « je m'appelle Paul Durand », « c'est la société Durand
Logistique », « mon mail c'est paul@durand.fr », « mon portable : 06 98 76 54 32 », or all at
once « Paul Durand, Durand Logistique, 06 98 76 54 32 ». `extract(text, asked)` returns every
detail it finds, so the form fills several fields at once and skips what it already has.

How, in order:
1. E-mail: « arobase », « (at) » become « @ »; a token with an « @ » is checked by
   email-validator (bot/leads/validation.py). A token with an « @ » that is not valid is an
   error for the e-mail field, never a name.
2. Phone: phonenumbers' matcher finds numbers inside the text (06…, +33…, dots, dashes).
3. What remains is cut at commas. Names and companies are found by their introductions
   (« je m'appelle », « moi c'est », « de chez », « la société », « je bosse chez »…), then, for
   the field asked, a bare value is the first remaining part if it looks like one (a few
   words, no sentence: « finalement je veux pas » is not a name).
4. A callback moment (« après 18h », « mardi matin ») left next to a phone number is kept.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import phonenumbers

from bot.callback import mentions_moment
from bot.leads.validation import validate_email, validate_phone
from bot.nlp import fold, normalise

NAME_MAX_WORDS = 5
COMPANY_MAX_WORDS = 8

_AT_WORDS = re.compile(r"\s*(?:\barobase\b|\(at\)|\[at\])\s*", re.IGNORECASE)
_DOT_WORDS = re.compile(r"\s+(?:point|dot)\s+(?=[\w-]+)", re.IGNORECASE)
_EMAIL_TOKEN = re.compile(r"[^\s,;:<>()\[\]«»\"']*@[^\s,;:<>()\[\]«»\"']*")
_APOS = "['’]"
# Words that may stand right before an address: « mail : », « sur », « c'est »…
_EMAIL_LEADS = frozenset(fold(w) for w in """
mail e-mail email courriel adresse mel sur a à au c'est cest est voici voila ok oui perso pro plutot plutôt
sinon ou et moi ecrivez écrivez ecris écris contact
""".split())

# Introductions, matched on the original text (case-insensitive); the value follows.
# « Martine Chevalier à l'appareil »: the name comes first.
_ON_THE_LINE = re.compile(rf"\s+(?:[àa]\s+l{_APOS}\s*appareil|au\s+t[ée]l[ée]phone)\b", re.IGNORECASE)
# Emoji and pictographs: a smile typed after one's name is not part of it.
_PICTOGRAPHS = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")
_NAME_INTROS = re.compile(
    rf"(?:je\s+m{_APOS}\s*app?ell?e|moi\s*,?\s*c{_APOS}\s*est|mon\s+nom\s+(?:c{_APOS}\s*est|est)|"
    rf"appelez[-\s]moi|nom\s*:)\s+",
    re.IGNORECASE,
)
# The introductions that state one's name outright (not « appelez-moi… », often a moment).
_STATED_NAME = re.compile(rf"je\s+m{_APOS}\s*app?ell?e|moi\s*,?\s*c{_APOS}\s*est|mon\s+nom\s+(?:c{_APOS}\s*est|est)", re.IGNORECASE)
# Weaker introductions (« je suis plombier », « c'est urgent »): a name only if capitalised.
_WEAK_NAME_INTROS = re.compile(rf"(?:\bje\s+suis|\bc{_APOS}\s*est|\bc|\bici)\s+", re.IGNORECASE)  # « c Jérémy »
# « Nom : Duval, prénom : Isabelle »
_FIRST_NAME = re.compile(r"pr[ée]nom\s*:?\s*([^\W\d_][\w'’-]*)", re.IGNORECASE)
_LAST_NAME = re.compile(r"(?<!pr[ée])\bnom\s*:\s*([^\W\d_][\w'’-]*)", re.IGNORECASE)
_COMPANY_INTROS = re.compile(
    rf"(?:\b(?:la|ma|notre)\s+(?:soci[ée]t[ée]|bo[iî]te|entreprise|structure|agence|sarl|sas|st[ée])\s+"
    rf"(?:s{_APOS}\s*appelle\s+|c{_APOS}\s*est\s+|c\s+|est\s+)?|"
    rf"(?<=,\s)de\s+(?:la\s+|l{_APOS}\s*)?(?=(?-i:[A-ZÀ-Ý]))|\b(?:mettez|notez|marquez|[ée]crivez)\s+(?=(?-i:[A-ZÀ-Ý]))|"
    rf"\b(?:le|mon|notre)\s+(?:cabinet|groupe|bureau|atelier|magasin|garage|studio)\s+(?:s{_APOS}\s*appelle\s+|c{_APOS}\s*est\s+)?|"
    rf"\bqui\s+s{_APOS}\s*appelle\s+|"
    rf"l{_APOS}\s*entreprise\s+(?:s{_APOS}\s*appelle\s+|c{_APOS}\s*est\s+)?|"
    rf"(?:on|nous)\s+s{_APOS}\s*appel(?:le|ons)\s+|nous\s*,?\s*c{_APOS}\s*est\s+|"
    rf"\b(?:la|le|l{_APOS}|ma|mon|notre)\s*[^\W\d_]+\s+s{_APOS}\s*appelle\s+|"
    rf"(?:je\s+(?:bosse|travaille|suis)|on\s+est|nous\s+sommes)\s+chez\s+|je\s+(?:bosse|travaille)\s+pour\s+(?:la\s+soci[ée]t[ée]\s+)?|"
    rf"de\s+chez\s+|chez\s+|je\s+dirige\s+|g[ée]rant(?:e)?\s+(?:de\s+(?:la\s+soci[ée]t[ée]\s+)?|d{_APOS}\s*(?!ailleurs\b))|"
    rf"(?:de|pour)\s+la\s+soci[ée]t[ée]\s+|soci[ée]t[ée]\s*:\s*|entreprise\s*:\s*)",
    re.IGNORECASE,
)
# Where a value stops: the next clause.
_VALUE_END = re.compile(
    rf"\s*(?:[,;.!?()]|\s-\s|\bet\b|\bau\s+fait\b|\bdepuis\b|\bon\s|\bnous\s|\bje\s|\bj{_APOS}|\bmon\s|\bma\s|\bmes\s|"
    rf"\bc{_APOS}\s*est\b|\bà\s|\ba\s|\bbas[ée]e?s?\b|\bsitu[ée]e?s?\b|\bdans\s|\ben\s|\bqui\s|\bpour\s|"
    rf"\bg[ée]rant|\bdirect|\bresponsable|\bcommercial|\bconducteur|\bfondat|\bpatron|\bpdg\b|\bceo\b|"
    rf"\bde\s+la\s+soci|\bde\s+chez|\bchez\b|\bune?\s)",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^\s*(?:(?:bonjour|bonsoir|salut|hello|re|oui|alors|donc|euh+|ben|bah|ah|oh|pardon|oups|d[ée]sol[ée]e?)\b[\s,!.:]*)+",
    re.IGNORECASE,
)
# At the company question, what may stand before the name itself: « nom : », « c'est la ».
_COMPANY_LEAD = re.compile(
    rf"^\s*(?:(?:nom|raison\s+sociale)(?:\s+de\s+l{_APOS}\s*entreprise)?\s*:\s*|c{_APOS}\s*est\s+(?:la\s+|le\s+|l{_APOS}\s*)?(?!(?:soci[ée]t[ée]|entreprise|bo[iî]te|structure|agence|cabinet|groupe)\b))",
    re.IGNORECASE,
)
# Words that make a sentence, never part of a name: « finalement je veux pas… ».
_SENTENCE_WORDS = frozenset(fold(w) for w in """
je j tu il elle on nous vous ils elles me moi te mon ma mes ton ta votre vos leur pas ne n plus
est suis sont veux voulez veut peux pouvez dois faut pourquoi comment quoi quel quelle quand
combien oui non merci ok stop pause arrete arreter finalement besoin donner laisser prefere
rien aucun aucune mail email e-mail telephone numero coordonnees societe entreprise boite
question demande rappeler appelez appeler avez ai a c ca cela ce cette qui que qu
ailleurs abord accord
""".split())


@dataclass
class Extracted:
    """What one message gives; errors say why a detail that is there cannot be used."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # Details said outright (« et moi c'est Laura Blanc »): they may correct one given before.
    stated: set[str] = field(default_factory=set)


def _clean_value(text: str, max_words: int) -> Optional[str]:
    text = _VALUE_END.split(text, maxsplit=1)[0] if text else ""
    text = text.strip(" \t-–—:«»\"'.")
    words = text.split()
    if not words or len(words) > max_words or not re.search(r"[^\W\d_]", text):
        return None
    return " ".join(words)


# « Mme Isabelle Moreau », « M. Durand »: the civility is not part of the name.
_CIVILITY = re.compile(r"^(?:m\.|mr\.?|mme\.?|mlle\.?|monsieur|madame|mademoiselle)\s+(?=[^\W\d_])", re.IGNORECASE)


_CIVILITY_INSIDE = re.compile(r"\b(?:M|Mr|Mme|Mlle)\.?\s+(?=[A-ZÀ-Ý])|\b(?i:monsieur|madame|mademoiselle)\s+(?=[A-ZÀ-Ý])")


def without_civility(name: str) -> str:
    return _CIVILITY.sub("", name).strip()


def looks_like_name(text: str) -> bool:
    words = re.findall(r"[^\W\d_][^\s,]*", text)
    if not words or len(words) > NAME_MAX_WORDS or re.search(r"\d|@|\?", text):
        return False
    return not any(fold(w).strip("'’-") in _SENTENCE_WORDS for w in re.split(r"[\s'’]+", text) if w)


def looks_like_company(text: str) -> bool:
    if not text or re.search(r"@|\?", text) or len(text.split()) > COMPANY_MAX_WORDS:
        return False
    first = fold(text.split()[0]).strip("'’")
    # « Société Test », « Entreprise Dupont » are company names; « je », « mon »… are not.
    return first not in _SENTENCE_WORDS - {"societe", "entreprise", "boite"}


def _emails(text: str, found: Extracted) -> str:
    if _AT_WORDS.search(text):  # spelt out: « contact arobase boite point fr »
        text = _AT_WORDS.sub("@", text)
        at = text.index("@")
        text = text[:at] + _DOT_WORDS.sub(".", text[at:])
    for token in _EMAIL_TOKEN.findall(text):
        before = text[:text.index(token)].split()
        if len(before) == 1 and fold(before[0]).strip(":") not in _EMAIL_LEADS and before[0].isalpha():
            # « arnaud martin@exemple.fr »: a space typed inside the address, not a sentence.
            found.errors.setdefault("email", "Une adresse e-mail ne contient pas d’espace : pouvez-vous la retaper d’un seul bloc ?")
            text = text.replace(token, " , ")
            continue
        result = validate_email(token.strip(".!?"))
        if result.ok and "email" not in found.values:
            found.values["email"] = result.value
        elif not result.ok and "email" not in found.values:
            found.errors["email"] = result.error
        text = text.replace(token, " , ")
    return text


def _phones(text: str, found: Extracted) -> str:
    for match in phonenumbers.PhoneNumberMatcher(text, "FR"):
        result = validate_phone(match.raw_string)
        if result.ok and "phone" not in found.values:
            found.values["phone"] = result.value
        text = text.replace(match.raw_string, " , ")
    return text


def _introduced(pattern: re.Pattern, text: str, max_words: int, plausible) -> tuple[Optional[str], str]:
    """The first plausible value after an introduction (« je m'appelle X »), and the text
    without it; an implausible one (« c'est la société… » read as a name) is left in place."""
    for match in pattern.finditer(text):
        value = _clean_value(text[match.end():], max_words)
        if value and plausible(value):
            start = match.end() + text[match.end():].find(value)
            return value, text[:match.start()] + " , " + text[start + len(value):]
    return None, text


def _fuller_name(name: str, rest: str) -> str:
    """« mon nom c'est Petit, Antoine Petit », « Dubreuil. Patrick Dubreuil. »: the name said
    again in full after the surname alone is the one to keep."""
    pieces = [p.strip() for p in name.split(".") if p.strip()]
    if len(pieces) > 1:
        name = max(pieces, key=lambda p: len(p.split()))
    for part in re.split(r"[,;.\n]", rest):
        part = " ".join(without_civility(part.strip()).split())
        if part != name and fold(part).endswith(fold(name)) and looks_like_name(part) \
                and len(part.split()) <= NAME_MAX_WORDS:
            return part
    return name


def _parts(text: str) -> list[str]:
    return [p.strip(" .!:;-–") for p in re.split(r"[,;\n]|\s-\s|\bet\s+(?=\d)", text) if p.strip(" .!:;-–")]


def extract(text: str, asked: Optional[str] = None) -> Extracted:
    """Every contact detail in `text`; `asked` (the field on screen) may take a bare value."""
    found = Extracted()
    rest = _phones(_emails(_ON_THE_LINE.sub("", _PICTOGRAPHS.sub("", normalise(text))), found), found)
    if asked != "company":  # « M. Bricolage » is a company
        rest = _CIVILITY_INSIDE.sub("", rest)  # « je m'appelle M. Paul Durand »: the « . » would end the name
    if asked == "company" and "?" not in rest:  # « c'est pour quoi faire, le nom ? » is a question
        rest = _COMPANY_LEAD.sub("", _GREETING.sub("", rest), count=1)
    if "phone" not in found.values and asked == "phone" and re.search(r"\d", rest):
        digits = re.sub(r"[^\d+]", "", rest)
        if digits:
            found.errors["phone"] = validate_phone(digits).error or "Ce numéro de téléphone n’est pas valide."
    first, last = _FIRST_NAME.search(rest), _LAST_NAME.search(rest)
    if first and last:
        found.values["name"] = f"{first.group(1)} {last.group(1)}"
        rest = rest[:min(first.start(), last.start())] + " , " + rest[max(first.end(), last.end()):]
    name, rest = _introduced(_NAME_INTROS, rest, NAME_MAX_WORDS, looks_like_name)
    if name and _STATED_NAME.search(text) and name[:1].isupper():
        found.stated.add("name")
    # Companies before the weak name introductions: « nous c'est Batiwest » is a company.
    company, rest = _introduced(_COMPANY_INTROS, rest, COMPANY_MAX_WORDS, looks_like_company)
    if company:
        found.values["company"] = company
    if name is None and "name" not in found.values:
        name, rest = _introduced(_WEAK_NAME_INTROS, rest, NAME_MAX_WORDS,
                                 lambda v: looks_like_name(v) and v[:1].isupper())
    if name and "name" not in found.values:
        found.values["name"] = without_civility(name)
    if "phone" in found.values and mentions_moment(rest):
        moment = max(_parts(rest), key=lambda p: mentions_moment(p), default="")
        moment = re.sub(r"^(?:appelez[-\s]moi|rappelez[-\s]moi|joignable|dispo(?:nible)?)\s*(?:au\s*|plut[ôo]t\s*)?", "", moment, flags=re.I).strip()
        if moment and mentions_moment(moment):
            found.values["callback"] = moment
    parts = [p for p in _parts(_GREETING.sub("", rest)) if re.search(r"[^\W\d_]", p)]
    if asked == "name" and not found.values and len(parts) == 2 \
            and all(len(p.split()) == 1 and p[:1].isupper() and looks_like_name(p) for p in parts):
        found.values["name"] = f"{parts[1]} {parts[0]}"  # « Lefevre, Julien »: the directory's « Nom, Prénom »
        parts = []
    if asked == "name" and "name" not in found.values and parts and looks_like_name(without_civility(parts[0])):
        found.values["name"] = " ".join(without_civility(parts.pop(0)).split())
        if parts and "company" not in found.values and looks_like_company(parts[0]) and len(parts[0].split()) <= 4 \
                and parts[0][:1].isupper() and not fold(parts[0]).endswith(fold(found.values["name"])):
            found.values["company"] = " ".join(parts.pop(0).split())
    elif asked == "company" and "company" not in found.values and parts and looks_like_company(parts[0]):
        value = _clean_value(parts[0], COMPANY_MAX_WORDS) if len(parts[0].split()) > 3 else parts[0]
        if value:
            found.values["company"] = " ".join(value.split())
    if "name" in found.values:
        found.values["name"] = _fuller_name(found.values["name"], rest)
    return found
