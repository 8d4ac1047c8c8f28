"""``python -m bot.backoffice.server``: the back office on BACKOFFICE_HOST:BACKOFFICE_PORT
(127.0.0.1:8001 by default), started by ``make run`` and ``make run-prod``."""
from __future__ import annotations

import logging
import sys

import uvicorn

from bot.backoffice.app import create_app
from bot.backoffice.settings import BackofficeSettings, SettingsError
from bot.leads.db import current_revision, head_revision, make_engine


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = BackofficeSettings.from_env()
    except SettingsError as exc:
        print(f"back-office : réglage invalide : {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.leads_db_url)
    if current_revision(engine) != head_revision():
        print("back-office : la base des leads n’est pas à jour : lancez « sip-coach db upgrade »", file=sys.stderr)
        return 1
    engine.dispose()
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, root_path=settings.root_path,
        # nginx in front (production profile): the client's address and https come from it.
        proxy_headers=settings.trust_proxy, forwarded_allow_ips="127.0.0.1", server_header=False,
        access_log=False, log_level="info",
        ws="none",  # no WebSocket here; and Rasa pins a websockets too old for uvicorn's support
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
