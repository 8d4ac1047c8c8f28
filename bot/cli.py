"""``sip-coach``: the consultant's command line (leads, notifications, database).

::

    sip-coach db upgrade
    sip-coach leads list [--status new|contacted|won|lost]
    sip-coach leads show ID
    sip-coach leads export --format json|csv [--output FICHIER] [--email ADRESSE]
    sip-coach leads mark ID --status contacted|won|lost [--note TEXTE]
    sip-coach leads edit ID [--name ...] [--company ...] [--email ...] [--phone ...]
    sip-coach leads erase --email ADRESSE | --sender ID_CONVERSATION
    sip-coach leads merge SOURCE CIBLE
    sip-coach leads purge --older-than 3y [--dry-run]        (Nd, Nm ou Ny)
    sip-coach conversations purge --older-than 30d [--dry-run]   (conversations sans lead)
    sip-coach outbox [list] [--all]
    sip-coach outbox retry [ID ...]
    sip-coach outbox worker --interval SECONDES [--retention 3y|off] [--conversations-retention 30d|off]
                          (rejoue aussi les demandes en attente ; purges de rétention quotidiennes,
                           formulaires de contact abandonnés effacés toutes les heures)
    sip-coach spool [list]
    sip-coach spool replay
    sip-coach spool erase --email ADRESSE | --sender ID_CONVERSATION

Exit codes: 0 success, 1 not found or failure, 2 wrong usage. Messages in French,
errors on stderr. Settings come from the environment (``docs/leads.md``).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import logging
import os
import re
import signal
import sys
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence

from bot.leads import retention

if TYPE_CHECKING:
    from bot.leads.service import LeadService

PROG = "sip-coach"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
MARK_STATUSES = ("contacted", "won", "lost")


class UsageError(Exception):
    """Wrong usage (exit code 2)."""


class Failure(Exception):
    """Not found or failed (exit code 1)."""


# ---------------------------------------------------------------------- argparse in French
_ARGPARSE_FR = (
    (r"the following arguments are required: (.*)", r"arguments obligatoires manquants : \1"),
    (r"argument (.*?): invalid choice: (.*?) \(choose from (.*)\)",
     r"argument \1 : choix invalide \2 (possibles : \3)"),
    (r"argument (.*?): invalid (\w+) value: (.*)", r"argument \1 : valeur invalide \3"),
    (r"argument (.*?): expected one argument", r"argument \1 : une valeur est attendue"),
    (r"argument (.*?): not allowed with argument (.*)", r"argument \1 : incompatible avec \2"),
    (r"one of the arguments (.*) is required", r"il faut l’un des arguments \1"),
    (r"unrecognized arguments: (.*)", r"arguments non reconnus : \1"),
    (r"invalid choice: (.*?) \(choose from (.*)\)", r"choix invalide \1 (possibles : \2)"),
)


def _french(message: str) -> str:
    for pattern, replacement in _ARGPARSE_FR:
        if re.fullmatch(pattern, message):
            return re.sub(pattern, replacement, message)
    return message


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):  # noqa: ANN001
        return super().add_usage(usage, actions, groups, "usage : " if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help="affiche cette aide et quitte")

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{_french(message)}\n{self.format_usage().rstrip()}")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n’est pas un numéro de lead") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"« {text} » n’est pas un numéro de lead")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n’est pas un nombre de secondes") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("l’intervalle doit être positif")
    return value


def parse_duration(text: str) -> tuple:
    """``"3y"`` -> (3, "y") for argparse (bot.leads.retention reads it)."""
    try:
        return retention.parse_duration(text)
    except retention.InvalidDuration as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


subtract_duration = retention.subtract_duration


def build_parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Les leads de Coach Partenariat, côté consultant Sales In Progress.",
        epilog="Base : LEADS_DB_URL (défaut sqlite:///var/leads.sqlite3). Guide : docs/leads.md.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="journal détaillé sur stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMANDE", parser_class=_Parser)
    commands.required = True

    db = commands.add_parser("db", help="base de données des leads")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", parser_class=_Parser)
    db_commands.required = True
    db_commands.add_parser("upgrade", help="crée ou met à jour les tables (migrations Alembic)")

    leads = commands.add_parser("leads", help="consulter et gérer les leads")
    lc = leads.add_subparsers(dest="leads_command", metavar="ACTION", parser_class=_Parser)
    lc.required = True
    p = lc.add_parser("list", help="liste des leads, du plus récent au plus ancien")
    p.add_argument("--status", choices=("new", "contacted", "won", "lost"), help="filtre par statut")
    p = lc.add_parser("show", help="un lead : coordonnées, diagnostic, conversation")
    p.add_argument("id", type=_positive_int, metavar="ID", help="numéro du lead")
    p = lc.add_parser("export", help="tous les leads en JSON ou CSV")
    p.add_argument("--format", choices=("json", "csv"), default="json", help="json (défaut) ou csv")
    p.add_argument("--output", "-o", metavar="FICHIER", help="écrit dans ce fichier au lieu de la sortie")
    p.add_argument("--email", metavar="ADRESSE",
                   help="seulement le lead de cette adresse (droit d’accès, portabilité)")
    p = lc.add_parser("mark", help="change le statut d’un lead, avec une note")
    p.add_argument("id", type=_positive_int, metavar="ID", help="numéro du lead")
    p.add_argument("--status", required=True, choices=MARK_STATUSES, help="contacted, won ou lost")
    p.add_argument("--note", metavar="TEXTE", help="note du consultant")
    p = lc.add_parser("edit", help="corrige les coordonnées d’un lead (droit de rectification)")
    p.add_argument("id", type=_positive_int, metavar="ID", help="numéro du lead")
    p.add_argument("--name", metavar="NOM")
    p.add_argument("--company", metavar="ENTREPRISE")
    p.add_argument("--email", metavar="ADRESSE", help="\"\" pour l’effacer")
    p.add_argument("--phone", metavar="NUMÉRO", help="\"\" pour l’effacer")
    p.add_argument("--callback-time", metavar="CRÉNEAU")
    p.add_argument("--need", metavar="BESOIN")
    p = lc.add_parser("merge", help="fusionne deux leads d’une même personne (doublon vérifié)")
    p.add_argument("source", type=_positive_int, metavar="SOURCE", help="le lead fusionné, puis supprimé")
    p.add_argument("target", type=_positive_int, metavar="CIBLE", help="le lead qui reste")
    p = lc.add_parser("erase", help="efface un visiteur : son lead et ses conversations (RGPD)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", metavar="ADRESSE", help="adresse e-mail du visiteur")
    who.add_argument("--sender", metavar="ID", help="identifiant d’une conversation")
    p = lc.add_parser("purge", help="efface les leads sans contact depuis une durée (rétention)")
    p.add_argument("--older-than", required=True, type=parse_duration, metavar="DURÉE",
                   help="Nd, Nm ou Ny, par exemple 3y (trois ans après le dernier contact)")
    p.add_argument("--dry-run", action="store_true", help="montre sans effacer")

    outbox = commands.add_parser("outbox", help="notifications au consultant (e-mail, webhook)")
    oc = outbox.add_subparsers(dest="outbox_command", metavar="ACTION", parser_class=_Parser)
    p = oc.add_parser("list", help="notifications en attente ou en échec (défaut)")
    p.add_argument("--all", action="store_true", help="aussi celles déjà envoyées")
    outbox.add_argument("--all", action="store_true", help="aussi celles déjà envoyées")
    p = oc.add_parser("retry", help="renvoie maintenant ce qui attend ou a échoué")
    p.add_argument("ids", nargs="*", type=_positive_int, metavar="ID", help="numéros de notification")
    p = oc.add_parser("worker", help="envoie en boucle jusqu’à Ctrl-C / SIGTERM")
    p.add_argument("--interval", type=_positive_float, default=30.0, metavar="SECONDES",
                   help="pause entre deux passages (défaut 30)")
    p.add_argument("--retention", metavar="DURÉE",
                   help="efface une fois par jour les leads sans contact depuis DURÉE "
                        "(défaut : LEADS_RETENTION, sinon 3y ; off pour ne pas effacer)")
    p.add_argument("--conversations-retention", metavar="DURÉE",
                   help="efface une fois par jour les conversations sans lead inactives depuis DURÉE "
                        "(défaut : CONVERSATIONS_RETENTION, sinon 30d ; off pour ne pas effacer)")

    conversations = commands.add_parser("conversations", help="conversations sans lead (rétention)")
    cc = conversations.add_subparsers(dest="conversations_command", metavar="ACTION", parser_class=_Parser)
    cc.required = True
    p = cc.add_parser("purge", help="efface les conversations sans lead inactives depuis une durée")
    p.add_argument("--older-than", required=True, type=parse_duration, metavar="DURÉE",
                   help="Nd, Nm ou Ny, par exemple 30d")
    p.add_argument("--dry-run", action="store_true", help="montre sans effacer")

    spool = commands.add_parser(
        "spool", help="demandes gardées pendant une panne de la base des leads (LEADS_SPOOL_DIR)")
    sc = spool.add_subparsers(dest="spool_command", metavar="ACTION", parser_class=_Parser)
    sc.add_parser("list", help="nombre de demandes en attente (défaut)")
    sc.add_parser("replay", help="enregistre maintenant les demandes en attente, une seule fois chacune")
    p = sc.add_parser("erase", help="efface les demandes en attente d’un visiteur (RGPD)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", metavar="ADRESSE", help="adresse e-mail du visiteur")
    who.add_argument("--sender", metavar="ID", help="identifiant d’une conversation")

    from bot.booking import cli as booking_cli  # its own module: bookings are their own concern

    booking_cli.add_parser(commands, _Parser)
    from bot.backoffice import cli as backoffice_cli  # the back office's accounts and data

    backoffice_cli.add_parser(commands, _Parser)
    return parser


# ---------------------------------------------------------------------- helpers
@contextmanager
def _service() -> Iterator["LeadService"]:
    """The lead service for one command, closed whatever happens."""
    from bot.leads.service import LeadService

    svc = LeadService.from_env(deliver_on_submit=False)
    try:
        yield svc
    finally:
        svc.close()


def _require_schema() -> None:
    from bot.leads.db import current_revision, head_revision, leads_db_url, make_engine, safe_url, sqlite_file_missing

    url = leads_db_url()
    if sqlite_file_missing(url):
        raise Failure(
            f"la base des leads n’existe pas encore ({safe_url(url)}) : lancez « {PROG} db upgrade »"
        )
    engine = make_engine(url, create_dir=False)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    if revision is None:
        raise Failure(f"la base des leads n’est pas initialisée : lancez « {PROG} db upgrade »")
    if revision != head_revision():
        raise Failure(f"la base des leads n’est pas à jour ({revision}) : lancez « {PROG} db upgrade »")


def _cell(value: Any, width: int) -> str:
    from bot.text import strip_controls

    text = "" if value is None else " ".join(strip_controls(str(value)).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(headers: Sequence[str], rows: List[Sequence[Any]], widths: Sequence[int]) -> str:
    sizes = [
        min(w, max([len(h)] + [len(_cell(r[i], w)) for r in rows])) for i, (h, w) in enumerate(zip(headers, widths))
    ]
    lines = ["  ".join(h.ljust(s) for h, s in zip(headers, sizes)).rstrip()]
    lines.append("  ".join("-" * s for s in sizes))
    for row in rows:
        lines.append("  ".join(_cell(v, s).ljust(s) for v, s in zip(row, sizes)).rstrip())
    return "\n".join(lines)


def _short_date(iso_text: Optional[str]) -> str:
    """An ISO 8601 time of the export in Paris time, for a column whose table says so."""
    from bot.leads.report import local_text

    if not iso_text:
        return ""
    return local_text(dt.datetime.fromisoformat(iso_text), with_zone=False)


# ---------------------------------------------------------------------- commands
def cmd_db_upgrade(args, out) -> int:  # noqa: ANN001
    from bot.leads.db import leads_db_url, safe_url, upgrade_database

    url = leads_db_url()
    revision = upgrade_database(url)
    print(f"Base des leads à jour (révision {revision}) : {safe_url(url)}", file=out)
    return EXIT_OK


def cmd_leads_list(args, out) -> int:  # noqa: ANN001
    from bot.leads.qualification import LABELS_FR
    from bot.leads.report import STATUS_LABELS
    from bot.leads.validation import format_phone

    _require_schema()
    with _service() as svc:
        records = svc.list_leads(args.status)
    if not records:
        print("Aucun lead." if not args.status else f"Aucun lead au statut « {args.status} ».", file=out)
        return EXIT_OK
    rows = [
        (
            r["id"], _short_date(r["created_at"]), LABELS_FR.get(r["qualification"]), r["score"],
            STATUS_LABELS.get(r["status"], r["status"]), r["name"], r["company"],
            # The phone first: a long e-mail address is cut at the column's end, never the number.
            " · ".join(c for c in (format_phone(r["phone"]), r["email"]) if c),
            f"#{r['possible_duplicate_of']}" if r["possible_duplicate_of"] else "",
        )
        for r in records
    ]
    headers = ("ID", "Créé le", "Qualif.", "Score", "Statut", "Nom", "Entreprise", "Contact", "Doublon ?")
    print(_table(headers, rows, (6, 16, 6, 5, 9, 24, 24, 56, 9)), file=out)
    print(f"{len(records)} lead(s). Heures de Paris.", file=out)
    return EXIT_OK


def cmd_leads_show(args, out) -> int:  # noqa: ANN001
    from bot.leads.notifier import render_email_bodies
    from bot.leads.service import LeadNotFound

    _require_schema()
    try:
        with _service() as svc:
            report = svc.report(args.id)
    except LeadNotFound:
        raise Failure(f"lead n°{args.id} introuvable") from None
    from bot.text import strip_controls

    text, _html = render_email_bodies(report)
    lead = report["lead"]
    # Transcripts hold what visitors typed: never let a terminal escape through.
    print(strip_controls(text, keep_lines=True).rstrip("\n"), file=out)
    print("", file=out)
    print(f"Conversations liées : {', '.join(lead['sender_ids'])}", file=out)
    return EXIT_OK


# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): =, +, -, @, tab, CR.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: str) -> str:
    """Prefix a would-be formula with a quote so spreadsheets show it as text (OWASP)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def export_csv(records: List[Dict[str, Any]]) -> str:
    from bot.leads.report import EXPORT_FIELDS

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        row = {}
        for key in EXPORT_FIELDS:
            value = record.get(key)
            if isinstance(value, list):
                value = ";".join(map(str, value))
            elif isinstance(value, bool):
                value = "true" if value else "false"
            elif value is None:
                value = ""
            row[key] = neutralise_cell(str(value))
        writer.writerow(row)
    return buffer.getvalue()


def cmd_leads_export(args, out) -> int:  # noqa: ANN001
    from bot.leads.validation import validate_email

    _require_schema()
    if args.email is not None:
        checked = validate_email(args.email)
        if not checked.ok:
            raise UsageError(f"adresse e-mail invalide : {checked.error}")
    with _service() as svc:
        records = svc.export()
    if args.email is not None:
        records = [r for r in records if r["email"] == checked.value]
        if not records:
            raise Failure(f"aucun lead avec l’adresse {checked.value}")
    if args.format == "json":
        content = json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    else:
        content = export_csv(records)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8", newline="") as handle:
                handle.write(content)
        except OSError as exc:
            raise Failure(f"impossible d’écrire {args.output} : {exc.strerror}") from None
        print(f"{len(records)} lead(s) exporté(s) dans {args.output}.", file=sys.stderr)
    else:
        out.write(content)
    return EXIT_OK


def cmd_leads_mark(args, out) -> int:  # noqa: ANN001
    from bot.leads.report import STATUS_LABELS
    from bot.leads.service import LeadNotFound

    _require_schema()
    try:
        with _service() as svc:
            svc.mark(args.id, args.status, args.note)
    except LeadNotFound:
        raise Failure(f"lead n°{args.id} introuvable") from None
    note = " (note enregistrée)" if args.note else ""
    print(f"Lead n°{args.id} : statut « {STATUS_LABELS[args.status]} »{note}.", file=out)
    return EXIT_OK


def cmd_leads_edit(args, out) -> int:  # noqa: ANN001
    from bot.leads.service import InvalidSubmission, LeadNotFound

    changes = {
        "name": args.name, "company": args.company, "email": args.email, "phone": args.phone,
        "callback_time": args.callback_time, "need": args.need,
    }
    if all(v is None for v in changes.values()):
        raise UsageError("rien à corriger : indiquez au moins --name, --company, --email, "
                         "--phone, --callback-time ou --need")
    _require_schema()
    try:
        with _service() as svc:
            svc.edit(args.id, **changes)
    except LeadNotFound:
        raise Failure(f"lead n°{args.id} introuvable") from None
    except InvalidSubmission as exc:
        raise Failure(f"{exc.field} : {exc.message}") from None
    fields = ", ".join(k.replace("_", "-") for k, v in changes.items() if v is not None)
    print(f"Lead n°{args.id} corrigé ({fields}).", file=out)
    return EXIT_OK


def _actor() -> str:
    """Who runs the command, for the audit trail (the system account)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name (a container without passwd entry)
        return "cli"


def cmd_leads_merge(args, out) -> int:  # noqa: ANN001
    from bot.leads.service import LeadNotFound

    if args.source == args.target:
        raise UsageError("un lead ne peut pas être fusionné avec lui-même")
    _require_schema()
    try:
        with _service() as svc:
            svc.merge(args.source, args.target, _actor())
    except LeadNotFound as exc:
        raise Failure(f"lead n°{exc.args[0]} introuvable") from None
    print(f"Lead n°{args.source} fusionné dans le lead n°{args.target} (noté dans son historique).", file=out)
    return EXIT_OK


def cmd_leads_erase(args, out) -> int:  # noqa: ANN001
    from bot.leads.validation import validate_email

    _require_schema()
    if args.email is not None:
        checked = validate_email(args.email)
        if not checked.ok:
            raise UsageError(f"adresse e-mail invalide : {checked.error}")
    from bot.leads.spool import LeadSpool

    with _service() as svc:
        if args.email is not None:
            report = svc.erase_email(checked.value)
        else:
            report = svc.erase_sender(args.sender)
    # A request still waiting in the local spool (leads DB was down) is erased too.
    spooled = LeadSpool.from_env().erase(
        email=checked.value if args.email is not None else None,
        sender_id=None if args.email is not None else args.sender,
    )
    if spooled:
        print(f"{spooled} demande(s) en attente effacée(s).", file=out)
    if args.email is not None and not report.lead_ids:
        if spooled:
            return EXIT_OK
        raise Failure(f"aucun lead avec l’adresse {checked.value}")
    if report.lead_ids:
        print(
            f"Effacé : lead(s) n°{', '.join(map(str, report.lead_ids))}, "
            f"{len(report.sender_ids)} conversation(s) ({report.tracker_events} événement(s)), "
            f"{report.mail_files} e-mail(s) de démonstration"
            + (f", {report.calendar_events} rendez-vous retiré(s) de l’agenda." if report.calendar_events else "."),
            file=out,
        )
    elif report.tracker_events:
        print(f"Aucun lead pour cette conversation ; {report.tracker_events} événement(s) effacé(s).", file=out)
    else:
        raise Failure(f"rien à effacer pour la conversation {args.sender}")
    return EXIT_OK


def cmd_conversations_purge(args, out) -> int:  # noqa: ANN001
    from bot.leads.models import utcnow

    _require_schema()
    cutoff = subtract_duration(utcnow(), args.older_than)
    with _service() as svc:
        report = svc.purge_conversations(cutoff, dry_run=args.dry_run)
    when = cutoff.strftime("%d/%m/%Y")
    count = len(report.sender_ids)
    if not count:
        print(f"Aucune conversation sans lead inactive depuis le {when}.", file=out)
    elif args.dry_run:
        print(f"{count} conversation(s) sans lead seraient effacées (inactives depuis le {when}).", file=out)
    else:
        print(f"{count} conversation(s) sans lead effacée(s) (inactives depuis le {when}) : "
              f"{report.tracker_events} événement(s).", file=out)
    return EXIT_OK


def cmd_leads_purge(args, out) -> int:  # noqa: ANN001
    from bot.leads.models import utcnow

    _require_schema()
    cutoff = subtract_duration(utcnow(), args.older_than)
    with _service() as svc:
        report = svc.purge(cutoff, dry_run=args.dry_run)
    when = cutoff.strftime("%d/%m/%Y")
    if not report.lead_ids:
        print(f"Aucun lead sans contact depuis le {when}.", file=out)
    elif args.dry_run:
        print(
            f"{len(report.lead_ids)} lead(s) seraient effacés (sans contact depuis le {when}) : "
            f"n°{', '.join(map(str, report.lead_ids))}.",
            file=out,
        )
    else:
        print(
            f"{len(report.lead_ids)} lead(s) effacé(s) (sans contact depuis le {when}) : "
            f"n°{', '.join(map(str, report.lead_ids))} ; {report.tracker_events} événement(s) "
            f"de conversation effacé(s).",
            file=out,
        )
    return EXIT_OK


_OUTBOX_STATUS = {"pending": "en attente", "sending": "en cours", "sent": "envoyée", "failed": "en échec"}
_CHANNEL = {"email": "e-mail", "webhook": "webhook"}


def cmd_outbox_list(args, out) -> int:  # noqa: ANN001
    from bot.leads.models import utcnow

    _require_schema()
    with _service() as svc:
        rows = svc.outbox.rows(include_sent=bool(getattr(args, "all", False)))
        lease = svc.outbox.policy.lease_seconds
    if not rows:
        print("Aucune notification en attente ni en échec.", file=out)
        return EXIT_OK
    now = utcnow()
    table = []
    for r in rows:
        status = _OUTBOX_STATUS.get(r.status, r.status)
        if r.status == "sending" and r.claimed_at and (now - r.claimed_at).total_seconds() > lease:
            status = "bloquée (reprise auto)"
        if r.status == "pending":
            when = _short_date(r.next_attempt_at.isoformat())
        elif r.status == "sent":
            when = _short_date(r.sent_at.isoformat()) if r.sent_at else ""
        else:
            when = ""
        table.append((r.id, r.lead_id, _CHANNEL.get(r.channel, r.channel), status, r.attempts, when, r.last_error or ""))
    headers = ("ID", "Lead", "Canal", "Statut", "Essais", "Prochain/envoi", "Dernière erreur")
    print(_table(headers, table, (6, 6, 8, 22, 6, 16, 60)), file=out)
    counts: Dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{n} {_OUTBOX_STATUS.get(s, s)}" for s, n in sorted(counts.items()))
    print(f"{len(rows)} notification(s) : {summary}. Heures de Paris.", file=out)
    return EXIT_OK


def _print_delivery(report, out) -> None:  # noqa: ANN001
    parts = [f"{len(report.sent)} envoyée(s)"]
    if report.retry_later:
        parts.append(f"{len(report.retry_later)} à réessayer plus tard")
    if report.failed:
        parts.append(f"{len(report.failed)} en échec définitif")
    print("Notifications : " + ", ".join(parts) + ".", file=out)


def cmd_outbox_retry(args, out) -> int:  # noqa: ANN001
    _require_schema()
    with _service() as svc:
        rescheduled = svc.outbox.reschedule(args.ids or None)
        if args.ids and rescheduled == 0:
            raise Failure("aucune de ces notifications n’est en attente ou en échec")
        report = svc.deliver_pending()
    if not rescheduled and not report.sent and not report.retry_later and not report.failed:
        print("Rien à renvoyer.", file=out)
        return EXIT_OK
    _print_delivery(report, out)
    if not report.ok:
        print(f"{PROG} : certaines notifications n’ont pas pu être envoyées ; voir « {PROG} outbox ».", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def run_worker(deliver: Callable[[], Any], interval: float, stop: threading.Event, out) -> int:  # noqa: ANN001
    while not stop.is_set():
        try:
            report = deliver()
        except Exception as exc:  # noqa: BLE001 - a DB outage must not kill the worker
            print(f"{PROG} : passage en échec ({type(exc).__name__}) ; nouvel essai dans {interval:g} s", file=sys.stderr)
        else:
            if report.sent or report.retry_later or report.failed:
                _print_delivery(report, out)
                out.flush()
        stop.wait(interval)
    return EXIT_OK


def cmd_outbox_worker(args, out) -> int:  # noqa: ANN001
    from bot.leads.service import LeadService

    source, text = (("--retention", args.retention) if args.retention is not None
                    else ("LEADS_RETENTION", os.environ.get("LEADS_RETENTION") or retention.DEFAULT_RETENTION))
    try:
        kept_for = retention.parse_retention(text)
    except retention.InvalidDuration as exc:
        raise UsageError(f"{source} : {exc} (ou off)") from None
    conv_source, conv_text = (
        ("--conversations-retention", args.conversations_retention)
        if args.conversations_retention is not None
        else ("CONVERSATIONS_RETENTION",
              os.environ.get("CONVERSATIONS_RETENTION") or retention.DEFAULT_CONVERSATIONS_RETENTION))
    try:
        conversations_kept_for = retention.parse_retention(conv_text)
    except retention.InvalidDuration as exc:
        raise UsageError(f"{conv_source} : {exc} (ou off)") from None
    _require_schema()
    svc = LeadService.from_env(deliver_on_submit=False)  # closed when the loop stops
    stop = threading.Event()
    previous = {}

    def handle(signum, frame) -> None:  # noqa: ANN001
        stop.set()

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handle)
    print(f"Envoi des notifications toutes les {args.interval:g} s (Ctrl-C pour arrêter).", file=out)
    if kept_for is None:
        print(f"Conservation : pas d’effacement automatique ({source} {text.strip()}).", file=out)
    else:
        print(f"Conservation : une fois par jour, effacement des leads sans contact depuis "
              f"{_duration_fr(kept_for)}.", file=out)
    if conversations_kept_for is None:
        print(f"Conversations sans lead : pas d’effacement automatique ({conv_source} {conv_text.strip()}).", file=out)
    else:
        print(f"Conversations sans lead : effacées après {_duration_fr(conversations_kept_for)} d’inactivité.", file=out)
    out.flush()
    from bot.leads.spool import LeadSpool

    spool = LeadSpool.from_env()
    from bot.contact import form_ttl_seconds

    schedules = [
        ("leads", retention.RetentionSchedule(svc.purge, kept_for)),
        ("conversations", retention.RetentionSchedule(svc.purge_conversations, conversations_kept_for)),
        # An unconsented form is redacted once expired, even if the visitor never comes back.
        ("forms", retention.RetentionSchedule(
            svc.forget_abandoned_forms, dt.timedelta(seconds=form_ttl_seconds()),
            every=retention.FORGET_FORMS_EVERY)),
    ]

    def purge_if_due() -> None:
        # Each on its own: a failing purge neither hides nor stops the deliveries, nor the
        # other purges, and the other way round.
        for kind, schedule in schedules:
            try:
                purged = schedule.run_if_due()
            except Exception as exc:  # noqa: BLE001 - tried again later (RetentionSchedule)
                hours = schedule.retry_after.total_seconds() / 3600
                print(f"{PROG} : conservation ({kind}) : effacement en échec ({type(exc).__name__}) ; "
                      f"nouvel essai dans {hours:g} h", file=sys.stderr)
                continue
            if purged is None:
                continue
            if kind == "leads" and purged[1].lead_ids:
                _print_purge(*purged, out)
            elif kind == "conversations" and purged[1].sender_ids:
                print(f"Conservation : {len(purged[1].sender_ids)} conversation(s) sans lead, inactive(s) "
                      f"depuis le {purged[0].strftime('%d/%m/%Y')}, effacée(s) "
                      f"({purged[1].tracker_events} événement(s)).", file=out)
            elif kind == "forms" and purged[1]:
                print(f"Conservation : {purged[1]} formulaire(s) de contact abandonné(s) sans "
                      "consentement effacé(s) des conversations.", file=out)
            out.flush()

    def deliver():
        # Once a day the retention purge; then the requests kept during a leads-database
        # outage (written exactly once), then the notices, theirs included.
        purge_if_due()
        if spool.count():
            replayed = spool.replay(svc)
            if replayed.written or replayed.skipped or replayed.failed:
                _print_replay(replayed, spool, out)
                out.flush()
        return svc.deliver_pending()

    try:
        run_worker(deliver, args.interval, stop, out)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        svc.close()
    print("Arrêt du worker.", file=out)
    return EXIT_OK


def _duration_fr(duration: tuple) -> str:
    number, unit = duration
    words = {"d": ("jour", "jours"), "m": ("mois", "mois"), "y": ("an", "ans")}[unit]
    return f"{number} {words[number > 1]}"


def _print_purge(cutoff, report, out) -> None:  # noqa: ANN001
    print(
        f"Conservation : {len(report.lead_ids)} lead(s) sans contact depuis le "
        f"{cutoff.strftime('%d/%m/%Y')} effacé(s) : n°{', '.join(map(str, report.lead_ids))} ; "
        f"{report.tracker_events} événement(s) de conversation effacé(s).",
        file=out,
    )


def _print_replay(report, spool, out) -> None:  # noqa: ANN001
    parts = [f"{len(report.written)} enregistrée(s)"]
    if report.skipped:
        parts.append(f"{report.skipped} déjà enregistrée(s)")
    if report.waiting:
        parts.append(f"{report.waiting} toujours en attente (base des leads inaccessible)")
    if report.failed:
        parts.append(f"{report.failed} refusée(s), mise(s) de côté dans {spool.failed_directory}")
    print("Demandes en attente : " + ", ".join(parts) + ".", file=out)


def cmd_spool_list(args, out) -> int:  # noqa: ANN001
    from bot.leads.spool import LeadSpool

    spool = LeadSpool.from_env()
    pending, failed = spool.pending(), spool.failed()
    if not pending:
        print(f"Aucune demande en attente ({spool.directory}).", file=out)
    else:
        try:
            from bot.leads.report import local_text

            oldest = local_text(spool.read(pending[0]).spooled_at, with_zone=False) + ", heure de Paris"
        except Exception:  # noqa: BLE001 - replayed or unreadable meanwhile
            oldest = "?"
        print(f"{len(pending)} demande(s) en attente dans {spool.directory} "
              f"(la plus ancienne : {oldest}) ; « {PROG} spool replay » les enregistre.", file=out)
    if failed:
        print(f"{len(failed)} demande(s) refusée(s) par la base, à examiner : {spool.failed_directory}",
              file=out)
    return EXIT_OK


def cmd_spool_replay(args, out) -> int:  # noqa: ANN001
    from bot.leads.service import LeadService
    from bot.leads.spool import LeadSpool

    spool = LeadSpool.from_env()
    if not spool.count():
        print("Aucune demande en attente.", file=out)
        return EXIT_OK
    svc = LeadService.from_env()  # notices of the replayed leads go out at once, as live
    try:
        report = spool.replay(svc)
    finally:
        svc.close()
    _print_replay(report, spool, out)
    if not report.ok:
        print(f"{PROG} : certaines demandes n’ont pas pu être enregistrées ; voir « {PROG} spool ».",
              file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def cmd_spool_erase(args, out) -> int:  # noqa: ANN001
    from bot.leads.spool import LeadSpool
    from bot.leads.validation import validate_email

    email = None
    if args.email is not None:
        checked = validate_email(args.email)
        if not checked.ok:
            raise UsageError(f"adresse e-mail invalide : {checked.error}")
        email = checked.value
    deleted = LeadSpool.from_env().erase(email=email, sender_id=args.sender)
    print(f"{deleted} demande(s) en attente effacée(s).", file=out)
    return EXIT_OK


COMMANDS = {
    ("db", "upgrade"): cmd_db_upgrade,
    ("leads", "list"): cmd_leads_list,
    ("leads", "show"): cmd_leads_show,
    ("leads", "export"): cmd_leads_export,
    ("leads", "mark"): cmd_leads_mark,
    ("leads", "edit"): cmd_leads_edit,
    ("leads", "merge"): cmd_leads_merge,
    ("leads", "erase"): cmd_leads_erase,
    ("leads", "purge"): cmd_leads_purge,
    ("conversations", "purge"): cmd_conversations_purge,
    ("outbox", "list"): cmd_outbox_list,
    ("outbox", None): cmd_outbox_list,
    ("outbox", "retry"): cmd_outbox_retry,
    ("outbox", "worker"): cmd_outbox_worker,
    ("spool", "list"): cmd_spool_list,
    ("spool", None): cmd_spool_list,
    ("spool", "replay"): cmd_spool_replay,
    ("spool", "erase"): cmd_spool_erase,
}


def _bookings_list(args, out) -> int:  # noqa: ANN001
    from bot.booking.cli import cmd_bookings_list

    return cmd_bookings_list(args, out)


COMMANDS[("bookings", "list")] = _bookings_list
COMMANDS[("bookings", None)] = _bookings_list


def _register_backoffice() -> None:
    from bot.backoffice import cli as backoffice_cli

    backoffice_cli.register(COMMANDS)


_register_backoffice()


def main(argv: Optional[Sequence[str]] = None) -> int:
    from bot.leads.transcript import TrackerUnavailable

    out = sys.stdout
    try:
        args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except UsageError as exc:
        print(f"{PROG} : erreur d’utilisation : {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_OK
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    sub = getattr(args, f"{args.command}_command", None)
    handler = COMMANDS[(args.command, sub)]
    try:
        return handler(args, out)
    except UsageError as exc:
        print(f"{PROG} : erreur d’utilisation : {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Failure as exc:
        print(f"{PROG} : erreur : {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except TrackerUnavailable as exc:  # the conversations could not be erased: say so, fail
        print(f"{PROG} : erreur : {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"{PROG} : interrompu", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a clear message, not a traceback
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            from bot.leads.db import leads_db_url, safe_url

            print(
                f"{PROG} : erreur : base des leads inaccessible ({safe_url(leads_db_url())}) : "
                f"{type(exc).__name__}",
                file=sys.stderr,
            )
        else:
            print(f"{PROG} : erreur : {exc}", file=sys.stderr)
        logging.getLogger(__name__).debug("détail", exc_info=True)
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
