"""web/serve.py: the demo page's static server (no browser needed)."""
from __future__ import annotations

import importlib.util
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

SERVE_PY = Path(__file__).resolve().parents[2] / "web" / "serve.py"


@pytest.fixture(scope="module")
def serve():
    spec = importlib.util.spec_from_file_location("coach_web_serve", SERVE_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def base_url(serve):
    server = serve.make_server("127.0.0.1", 0, "http://rasa.example:5005/", quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=5) as res:
            return res.status, dict(res.headers), res.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), ""


def test_config_js_carries_the_rasa_url(base_url):
    status, headers, body = get(base_url + "/config.js")
    assert status == 200
    assert headers["Content-Type"].startswith("text/javascript")
    assert '"rasaUrl": "http://rasa.example:5005"' in body
    assert body.startswith("window.CoachPartenariatConfig = ")


def test_default_rasa_url_follows_rasa_port(serve, monkeypatch):
    monkeypatch.delenv("RASA_PUBLIC_URL", raising=False)
    monkeypatch.delenv("RASA_PORT", raising=False)
    assert serve.default_rasa_url() == "http://localhost:5005"
    monkeypatch.setenv("RASA_PORT", "5123")
    assert serve.default_rasa_url() == "http://localhost:5123"
    monkeypatch.setenv("RASA_PUBLIC_URL", "https://bot.example.org")
    assert serve.default_rasa_url() == "https://bot.example.org"


def test_config_script_cannot_break_out_of_the_script(serve):
    body = serve.config_script('http://x/"</script><script>alert(1)</script>').decode()
    assert "</script>" not in body


def test_page_widget_and_headers(base_url):
    status, headers, body = get(base_url + "/")
    assert status == 200 and '<html lang="fr">' in body
    assert '<script src="widget.js"' in body
    csp = headers["Content-Security-Policy"]
    assert "connect-src 'self' http://rasa.example:5005;" in csp
    assert "script-src 'self';" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    for asset in ("/widget.js", "/widget.css", "/site.css"):
        assert get(base_url + asset)[0] == 200


@pytest.mark.parametrize("path", ["/serve.py", "/README.md", "/.gitignore", "/missing.html"])
def test_only_static_assets_are_served(base_url, path):
    assert get(base_url + path)[0] == 404


@pytest.mark.parametrize("path", ["/%00", "/index.html%00.js", "/%C3%28.js", "/a%00b/"])
def test_a_null_byte_or_a_bad_encoding_is_a_400_not_a_dropped_connection(base_url, path):
    status, headers, _ = get(base_url + path)
    assert status == 400
    assert get(base_url + "/")[0] == 200  # the server is still there


def test_no_version_banner(base_url):
    _, headers, _ = get(base_url + "/")
    assert headers["Server"] == "Coach Partenariat"
    assert "Python" not in str(headers) and "SimpleHTTP" not in str(headers)
