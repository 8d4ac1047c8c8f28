"""Serveur statique de la page de démonstration et du widget (bibliothèque standard seulement).

    python web/serve.py            # http://127.0.0.1:8000/

Environnement :
    WEB_PORT         port d'écoute (défaut 8000 ; 0 = un port libre, affiché au démarrage)
    WEB_HOST         adresse d'écoute (défaut 127.0.0.1)
    RASA_PUBLIC_URL  adresse du serveur Rasa vue du navigateur
                     (défaut http://localhost:${RASA_PORT:-5005})

`/config.js` est produit ici : il fixe `window.CoachPartenariatConfig.rasaUrl`.
Seuls les fichiers statiques du dossier web/ (html, css, js, images) sont servis.
"""
from __future__ import annotations

import json
import os
import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, unquote

WEB_DIR = Path(__file__).resolve().parent
SERVED_SUFFIXES = {".html", ".css", ".js", ".svg", ".png", ".jpg", ".jpeg", ".webp", ".ico", ".txt"}


def default_rasa_url() -> str:
    return os.environ.get("RASA_PUBLIC_URL") or f"http://localhost:{os.environ.get('RASA_PORT') or '5005'}"


def config_script(rasa_url: str) -> bytes:
    config = {"rasaUrl": rasa_url.rstrip("/")}
    # json.dumps échappe les guillemets ; on neutralise aussi « </ » pour rester sûr dans du JS
    body = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    return (
        "window.CoachPartenariatConfig = Object.assign({}, window.CoachPartenariatConfig || {}, "
        f"{body});\n"
    ).encode("utf-8")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return ""


class Handler(SimpleHTTPRequestHandler):
    rasa_url = "http://localhost:5005"
    quiet = False

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".html": "text/html; charset=utf-8",
        ".svg": "image/svg+xml",
    }

    def end_headers(self) -> None:
        rasa_origin = origin_of(self.rasa_url)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
            f"connect-src 'self' {rasa_origin}; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'",
        )
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def version_string(self) -> str:
        # Pas de « SimpleHTTP/0.6 Python/3.10.13 » : une version indique quelles failles essayer.
        return "Coach Partenariat"

    def _malformed(self, path: str) -> bool:
        """Un octet nul (%00) ou un encodage invalide : 400, jamais une trace d'erreur."""
        try:
            decoded = unquote(path, errors="strict")
        except UnicodeDecodeError:
            decoded = "\x00"
        if "\x00" in decoded or "\x00" in path:
            self.send_error(400, "Requête invalide")
            return True
        return False

    def do_GET(self) -> None:  # noqa: N802 (nom imposé par http.server)
        path = urlsplit(self.path).path
        if self._malformed(path):
            return
        if path == "/config.js":
            body = config_script(self.rasa_url)
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if not self._allowed(path):
            self.send_error(404, "Introuvable")
            return
        super().do_GET()

    def do_HEAD(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        if self._malformed(path):
            return
        if path != "/config.js" and not self._allowed(path):
            self.send_error(404, "Introuvable")
            return
        super().do_HEAD()

    def list_directory(self, path):  # pas de listing de dossier
        self.send_error(404, "Introuvable")
        return None

    @staticmethod
    def _allowed(path: str) -> bool:
        if path.endswith("/"):
            return True  # index.html du dossier
        name = path.rsplit("/", 1)[-1]
        return not name.startswith(".") and Path(name).suffix.lower() in SERVED_SUFFIXES

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        if not self.quiet:
            super().log_message(format, *args)


def make_server(host: str, port: int, rasa_url: str, quiet: bool = False) -> ThreadingHTTPServer:
    handler = type("CoachHandler", (Handler,), {"rasa_url": rasa_url, "quiet": quiet})
    server = ThreadingHTTPServer((host, port), partial(handler, directory=str(WEB_DIR)))
    server.daemon_threads = True
    return server


def main() -> int:
    host = os.environ.get("WEB_HOST") or "127.0.0.1"
    try:
        port = int(os.environ.get("WEB_PORT") or "8000")
    except ValueError:
        print("WEB_PORT doit être un nombre entier.", file=sys.stderr)
        return 2
    rasa_url = default_rasa_url()
    quiet = os.environ.get("WEB_QUIET", "").lower() in ("1", "true", "yes")
    try:
        server = make_server(host, port, rasa_url, quiet=quiet)
    except OSError as exc:
        print(f"Impossible d'écouter sur {host}:{port} : {exc}", file=sys.stderr)
        return 1
    bound_host, bound_port = server.server_address[:2]
    shown_host = "localhost" if bound_host in ("127.0.0.1", "0.0.0.0", "::") else bound_host
    print(f"Page de démonstration : http://{shown_host}:{bound_port}/", flush=True)
    print(f"Serveur Rasa attendu : {rasa_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
