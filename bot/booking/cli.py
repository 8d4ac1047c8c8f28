"""`sip-coach bookings list`: the meetings booked in the chat, one a line, Paris time
(registered in bot/cli.py, which owns the parser and the error handling)."""
from __future__ import annotations

import json

from bot.booking.invitation import MODE_LABELS

STATUS_LABELS = {"booked": "réservé", "cancelled": "annulé"}


def add_parser(commands, parser_class) -> None:  # noqa: ANN001
    bookings = commands.add_parser("bookings", help="rendez-vous réservés dans le chat")
    bc = bookings.add_subparsers(dest="bookings_command", metavar="ACTION", parser_class=parser_class)
    p = bc.add_parser("list", help="rendez-vous à venir et passés (défaut : réservés seulement)")
    p.add_argument("--all", action="store_true", help="avec les rendez-vous annulés")
    p.add_argument("--format", choices=("table", "json"), default="table")


def cmd_bookings_list(args, out) -> int:  # noqa: ANN001
    from bot.booking.service import BookingService
    from bot.booking.settings import default_settings
    from bot.cli import EXIT_OK, _require_schema, _service, _table

    _require_schema()
    with _service() as leads:
        views = BookingService(default_settings(), None, leads).list(include_cancelled=getattr(args, "all", False))
    if getattr(args, "format", "table") == "json":
        print(json.dumps([v.as_dict() for v in views], ensure_ascii=False, indent=2), file=out)
        return EXIT_OK
    if not views:
        print("Aucun rendez-vous.", file=out)
        return EXIT_OK
    rows = [
        (v.id, v.label, MODE_LABELS.get(v.mode, v.mode), STATUS_LABELS.get(v.status, v.status),
         v.name, v.company, f"#{v.lead_id}", v.consultant_id)
        for v in views
    ]
    headers = ("ID", "Créneau (heure de Paris)", "Mode", "Statut", "Nom", "Entreprise", "Lead", "Consultant")
    print(_table(headers, rows, (5, 30, 15, 9, 24, 24, 6, 12)), file=out)
    print(f"{len(views)} rendez-vous.", file=out)
    return EXIT_OK
