"""Only the Rasa server may call the action server: a shared secret in a header.

The action server runs whatever action a POST to `/webhook` names, with whatever tracker it
carries: a hand-written call with `next_action: action_submit_lead` would store a lead with a
consent proof nobody gave. Rasa sends `X-Actions-Secret: $ACTIONS_SECRET` with every call
(endpoints.yml, endpoints.prod.yml: `action_endpoint.headers`); this module makes rasa-sdk's
server refuse every other request to `/webhook` and `/actions` with a 401 (`/health` stays
open for the start-up checks). `make run`, `make shell` and `make run-prod` draw a random
secret when ACTIONS_SECRET is not set; a server started without one refuses every call and
says why in its log.
"""
from __future__ import annotations

import hmac
import logging
import os
from typing import Optional

HEADER = "X-Actions-Secret"
ENV_VAR = "ACTIONS_SECRET"
GUARDED_PATHS = ("/webhook", "/actions")
MIN_LENGTH = 16

logger = logging.getLogger(__name__)


def configured_secret(env: Optional[dict] = None) -> Optional[str]:
    value = ((os.environ if env is None else env).get(ENV_VAR) or "").strip()
    return value if len(value) >= MIN_LENGTH else None


def is_authorised(presented: Optional[str], secret: Optional[str]) -> bool:
    """Constant-time comparison; no secret configured means nobody is authorised."""
    if not secret or not presented:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), secret.encode("utf-8"))


def install() -> None:
    """Guard rasa-sdk's Sanic app, when this package is being loaded by `rasa run actions`
    (rasa-sdk creates its app, then imports the actions: the app exists by now)."""
    try:
        from sanic import Sanic, response

        app = Sanic.get_app("rasa_sdk")
    except Exception:  # imported by the tests or the Rasa server: no action server here
        return
    secret = configured_secret()
    if secret is None:
        logger.error("%s n'est pas défini (%d caractères au moins) : le serveur d'actions refuse tous "
                     "les appels. make run le tire au hasard ; sinon, définissez-le pour Rasa et ici.",
                     ENV_VAR, MIN_LENGTH)

    @app.middleware("request")
    async def require_shared_secret(request):  # noqa: ANN001, ANN202
        if request.path in GUARDED_PATHS and not is_authorised(request.headers.get(HEADER), secret):
            return response.json({"error": "Appel refusé : seul le serveur Rasa peut appeler les actions."},
                                 status=401)
        return None
