"""Score the blind booking set (tests/blind/booking.yml, written by a helper from the brief
alone): intents with the trained model (book / cancel / move / not booking), and the booking
dialogue's reader on the replies to the slots and to « téléphone ou visio ? ».

    .venv/bin/python scripts/score_blind_booking.py [--model models/coach.tar.gz] [--details]

The slots on screen are the ones the set's header names (Tue 8 Dec 10:00 and 14:30, Thu 10 Dec
9:00, Fri 11 Dec 16:00), « now » Thursday 3 December 2026, 10 h in Paris.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=PARIS)
SHOWN = [dt.datetime(2026, 12, 8, 10, 0, tzinfo=PARIS), dt.datetime(2026, 12, 8, 14, 30, tzinfo=PARIS),
         dt.datetime(2026, 12, 10, 9, 0, tzinfo=PARIS), dt.datetime(2026, 12, 11, 16, 0, tzinfo=PARIS)]
BOOKING_INTENTS = {"book_meeting", "cancel_booking", "move_booking"}
ALIASES = {"phone_number": {"ask_contact_info"}, "callback": {"request_contact"}}
WEEKDAYS_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def expected_start(which: str):
    which = which.strip().lower()
    if which.isdigit():
        return SHOWN[int(which) - 1]
    candidates = SHOWN
    for index, day in enumerate(WEEKDAYS_EN):
        if day in which:
            candidates = [s for s in candidates if s.weekday() == index]
    for token in which.replace("h", ":").split():
        if ":" in token and token.split(":")[0].isdigit():
            hour, _, minute = token.partition(":")
            candidates = [s for s in candidates if (s.hour, s.minute) == (int(hour), int(minute or 0))]
    return candidates[0] if len(candidates) == 1 else None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "coach.tar.gz")
    parser.add_argument("--set", type=Path, default=ROOT / "tests" / "blind" / "booking.yml")
    parser.add_argument("--details", action="store_true")
    args = parser.parse_args()
    from bot.booking.dialogue import read_mode, read_slot_reply
    from bot.booking.settings import default_settings
    from bot.booking.slots import slot_label
    from score_blind_forms import load_agent

    agent = load_agent(args.model)
    groups = defaultdict(list)
    for entry in yaml.safe_load(args.set.read_text(encoding="utf-8"))["items"]:
        groups[entry["group"]].append(entry)
    labels = [slot_label(default_settings(), s) for s in SHOWN]
    totals, wrong = defaultdict(lambda: [0, 0]), []
    for group, items in groups.items():
        for item in items:
            text, expect = item["text"], item["expect"]
            if group in ("book", "cancel", "move", "not_booking"):
                intent = asyncio.run(agent.parse_message(text))["intent"]["name"]
                if group == "not_booking":
                    ok = intent not in BOOKING_INTENTS  # any non-booking reading is right here
                else:
                    ok = intent == expect
                got = intent
            elif group == "mode":
                got = read_mode(text) or "?"
                ok = got == expect or (expect == "any" and got in ("phone", "video"))
            else:
                reply = read_slot_reply(text, SHOWN, labels, NOW, PARIS)
                got = reply.kind + (f" {reply.chosen:%a %H:%M}" if reply.chosen else "")
                if group == "choose":
                    ok = reply.kind == "chosen" and reply.chosen == expected_start(str(item.get("which", "")))
                elif group == "other_slots":
                    ok = reply.kind in ("wish", "none_fit")
                else:  # bad_dates
                    ok = reply.kind == "problem"
            totals[group][0] += ok
            totals[group][1] += 1
            if not ok:
                wrong.append((group, text, expect, got))
    right = sum(r for r, _ in totals.values())
    count = sum(n for _, n in totals.values())
    for group, (r, n) in totals.items():
        print(f"{group:12s} {r:3d}/{n:3d}  {100 * r / n:5.1f} %")
    print(f"{'all':12s} {right:3d}/{count:3d}  {100 * right / count:5.1f} %")
    if args.details:
        for group, text, expect, got in wrong:
            print(f"  [{group}] {text!r}: expected {expect}, got {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
