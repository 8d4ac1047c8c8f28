"""The embedded CalDAV server of the default profile: Radicale, in its own folder under var/.

``python -m bot.booking.radicale_server --folder var/radicale --port 5232`` writes the config,
creates the htpasswd user on first run (a random password kept in ``var/radicale/password``,
readable by this user only) and runs Radicale in the foreground (``make run`` stops it with
the others). ``--print-env`` prints the CALDAV_* settings the action server needs instead.
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

USER = "coach"


def prepare(folder: Path, port: int, host: str = "127.0.0.1") -> dict:
    """Config, collections and user under ``folder``; the CALDAV_* environment to reach it."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    password_file = folder / "password"
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(24), encoding="utf-8")
        password_file.chmod(0o600)
    password = password_file.read_text(encoding="utf-8").strip()
    # Plain htpasswd: the password sits beside it in ``password`` anyway (0600, this user's
    # var/), and a crypt hash costs ~0.3 s of CPU on every CalDAV request.
    users = folder / "users"
    users.write_text(f"{USER}:{password}\n", encoding="utf-8")
    users.chmod(0o600)
    config = folder / "config"
    config.write_text(
        "# Written by bot/booking/radicale_server.py at each start: edit that file instead.\n"
        f"[server]\nhosts = {host}:{port}\n\n"
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {users.resolve()}\nhtpasswd_encryption = plain\n"
        "delay = 0\n\n"
        "[rights]\ntype = owner_only\n\n"
        f"[storage]\nfilesystem_folder = {(folder / 'collections').resolve()}\n\n"
        "[web]\ntype = none\n\n"
        "[logging]\nlevel = warning\nmask_passwords = True\n",
        encoding="utf-8",
    )
    return {"CALDAV_URL": f"http://{host}:{port}/", "CALDAV_USER": USER, "CALDAV_PASSWORD": password,
            "RADICALE_CONFIG": str(config.resolve())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", default="var/radicale")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CALDAV_PORT") or 5232))
    parser.add_argument("--print-env", action="store_true")
    args = parser.parse_args(argv)
    env = prepare(Path(args.folder), args.port)
    if args.print_env:
        for key in ("CALDAV_URL", "CALDAV_USER", "CALDAV_PASSWORD"):
            print(f"{key}={env[key]}")
        return 0
    os.execv(sys.executable, [sys.executable, "-m", "radicale", "--config", env["RADICALE_CONFIG"]])
    return 0  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
