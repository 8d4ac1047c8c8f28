"""``sip-coach users add|list|disable|passwd``, ``sip-coach nlu review`` and
``sip-coach events consume`` (registered in bot/cli.py, which owns the parser and the errors).

A password is typed twice at a hidden prompt, or read from the first line of standard input
with ``--password-stdin`` (scripts, tests): never on the command line, where ``ps`` and the
shell history would show it.
"""
from __future__ import annotations

import getpass
import sys
from pathlib import Path


def add_parser(commands, parser_class) -> None:  # noqa: ANN001
    users = commands.add_parser("users", help="comptes du back-office")
    uc = users.add_subparsers(dest="users_command", metavar="ACTION", parser_class=parser_class)
    uc.required = True
    for name, help_text in (("add", "crée un compte (mot de passe demandé)"),
                            ("passwd", "change le mot de passe d’un compte (et le réactive)")):
        p = uc.add_parser(name, help=help_text)
        p.add_argument("username", metavar="IDENTIFIANT")
        p.add_argument("--password-stdin", action="store_true",
                       help="lit le mot de passe sur la première ligne de l’entrée standard")
    uc.add_parser("list", help="les comptes, actifs ou désactivés")
    p = uc.add_parser("disable", help="désactive un compte (ses sessions se ferment aussitôt)")
    p.add_argument("username", metavar="IDENTIFIANT")

    nlu = commands.add_parser("nlu", help="données d’entraînement venues des vrais visiteurs")
    nc = nlu.add_subparsers(dest="nlu_command", metavar="ACTION", parser_class=parser_class)
    nc.required = True
    p = nc.add_parser("review", help="écrit les questions attribuées dans data/nlu/reviewed.yml")
    p.add_argument("--output", metavar="FICHIER", help="un autre fichier que data/nlu/reviewed.yml")

    events = commands.add_parser("events", help="événements de Rasa pour le parcours des visiteurs")
    ec = events.add_subparsers(dest="events_command", metavar="ACTION", parser_class=parser_class)
    ec.required = True
    p = ec.add_parser("consume", help="lit la file RabbitMQ et écrit dans EVENTS_DB_URL (profil production)")
    p.add_argument("--queue", default=None, help="file RabbitMQ (défaut : RABBITMQ_QUEUE ou coach_events)")
    p.add_argument("--max-messages", type=int, default=None, help="s’arrête après ce nombre (tests)")


def _password(args) -> str:  # noqa: ANN001
    from bot.cli import UsageError

    if args.password_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():
        raise UsageError("pas de terminal pour demander le mot de passe : utilisez --password-stdin")
    first = getpass.getpass("Mot de passe : ")
    if getpass.getpass("Encore une fois : ") != first:
        raise UsageError("les deux mots de passe diffèrent")
    return first


def _session():  # noqa: ANN202
    from bot.cli import _require_schema
    from bot.leads.db import leads_db_url, make_engine, session_factory, session_scope

    _require_schema()
    return session_scope(session_factory(make_engine(leads_db_url())))


def cmd_users(args, out) -> int:  # noqa: ANN001
    from bot.backoffice.accounts import AccountError, Accounts
    from bot.backoffice.queries import paris_text
    from bot.cli import EXIT_OK, Failure, _table

    action = args.users_command
    try:
        if action == "list":
            with _session() as session:
                views = Accounts(session).list()
            if not views:
                print("Aucun compte. Créez-en un : sip-coach users add IDENTIFIANT", file=out)
                return EXIT_OK
            rows = [(v.username, paris_text(v.created_at), "désactivé" if v.disabled else "actif", v.open_sessions)
                    for v in views]
            print(_table(("Identifiant", "Créé le (heure de Paris)", "État", "Sessions ouvertes"), rows, (64, 24, 10, 17)), file=out)
            return EXIT_OK
        if action == "disable":
            with _session() as session:
                user = Accounts(session).disable(args.username)
                name = user.username
            print(f"Compte « {name} » désactivé ; ses sessions sont fermées.", file=out)
            return EXIT_OK
        password = _password(args)
        with _session() as session:
            accounts = Accounts(session)
            if action == "add":
                name, was_disabled = accounts.add(args.username, password).username, False
            else:
                existing = accounts.get(args.username)
                was_disabled = existing is not None and not existing.active
                name = accounts.set_password(args.username, password).username
    except AccountError as exc:
        raise Failure(str(exc)) from None
    if action == "add":
        print(f"Compte « {name} » créé.", file=out)
    else:
        again = " ; le compte est réactivé" if was_disabled else ""
        print(f"Mot de passe de « {name} » changé ; ses sessions sont fermées{again}.", file=out)
    return EXIT_OK


def cmd_nlu_review(args, out) -> int:  # noqa: ANN001
    from bot.backoffice.nlu_review import write_reviewed_file
    from bot.backoffice.settings import BackofficeSettings
    from bot.cli import EXIT_OK

    path = Path(args.output) if args.output else Path(BackofficeSettings.from_env().reviewed_nlu_path)
    with _session() as session:
        report = write_reviewed_file(session, path)
    for text, why in report.skipped:
        print(f"laissé de côté ({why}) : {text}", file=out)
    if report.count:
        print(f"{report.count} formulation(s) dans {path} ({len(report.written)} sujet(s)). "
              "Lancez « make train » pour que le bot les apprenne.", file=out)
    else:
        print("Aucune formulation attribuée à écrire.", file=out)
    return EXIT_OK


def cmd_events_consume(args, out) -> int:  # noqa: ANN001
    from bot.backoffice.broker_consumer import consume_from_env
    from bot.cli import EXIT_OK

    count = consume_from_env(queue=args.queue, max_messages=args.max_messages)
    print(f"{count} événement(s) enregistré(s).", file=out)
    return EXIT_OK


def register(commands: dict) -> None:
    for action in ("add", "list", "disable", "passwd"):
        commands[("users", action)] = cmd_users
    commands[("nlu", "review")] = cmd_nlu_review
    commands[("events", "consume")] = cmd_events_consume
