"""scripts/lib.sh's Ctrl-C clean-up (make run, make shell, make run-prod): every server stops,
and one that ignores SIGTERM is named and killed after the grace period."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
source scripts/lib.sh
STOP_GRACE_SECONDS=2
(exec python3 -c 'import time; time.sleep(60)') & PIDS+=($!)
READY=$(mktemp -u)
(trap '' TERM; exec python3 -c 'import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); open(sys.argv[1], "w").close(); time.sleep(60)' "$READY") & PIDS+=($!)
for _ in $(seq 300); do [[ -e "$READY" ]] && break; sleep 0.1; done  # it ignores SIGTERM now
rm -f "$READY"
echo "pids ${PIDS[*]}"
cleanup
for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && echo "still there: $pid"; done
echo done
"""


def test_ctrl_c_stops_every_server_and_kills_a_stuck_one():
    started = time.monotonic()
    out = subprocess.run(["bash", "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=30)
    elapsed = time.monotonic() - started
    assert out.returncode == 0, out.stderr
    assert "still there" not in out.stdout and out.stdout.rstrip().endswith("done")
    forced = [line for line in out.stderr.splitlines() if "arrêt forcé" in line]
    assert len(forced) == 1 and "import signal" in forced[0]  # only the one ignoring SIGTERM, named
    assert elapsed < 20  # the grace period (2 s here), not the stuck server's 60 s


@pytest.mark.parametrize("name", ["LEADS_RETENTION", "CONVERSATIONS_RETENTION"])
@pytest.mark.parametrize("value, ok", [("", True), ("3y", True), ("18m", True), ("off", True),
                                       ("trois ans", False), ("500y", False)])
def test_a_bad_retention_setting_stops_the_start_with_a_french_sentence(name, value, ok):
    # make run and make run-prod check the retention periods before starting anything.
    out = subprocess.run(["bash", "-c", "source scripts/lib.sh; check_settings; echo checked"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**os.environ, name: value})
    if ok:
        assert out.returncode == 0 and out.stdout.strip() == "checked" and out.stderr == ""
    else:
        assert out.returncode == 1 and "checked" not in out.stdout
        assert out.stderr.startswith(f"{name} : durée") and out.stderr.rstrip().endswith("(ou off).")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/leads"])
def test_a_webhook_url_that_is_not_http_stops_the_start(url):
    out = subprocess.run(["bash", "-c", "source scripts/lib.sh; check_settings; echo checked"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "LEADS_WEBHOOK_URL": url})
    assert out.returncode == 1 and "checked" not in out.stdout
    assert out.stderr.startswith("LEADS_WEBHOOK_URL doit être une adresse http:// ou https://")


def test_run_scripts_check_the_retention_setting_first():
    for script in ("run.sh", "run_prod.sh"):
        lines = (ROOT / "scripts" / script).read_text().splitlines()
        check = next(i for i, line in enumerate(lines) if line.startswith("check_settings"))
        assert check < next(i for i, line in enumerate(lines) if line.startswith("apply_migrations")), script


def test_var_and_what_the_servers_write_there_are_private():
    """Conversations, leads, e-mails and logs: readable by this user only."""
    probe = ROOT / "var" / "log" / "permissions-probe.log"
    try:
        out = subprocess.run(
            ["bash", "-c", f'source scripts/lib.sh; echo secret > "{probe}"; stat -c "%a" var "{probe}"'],
            cwd=ROOT, capture_output=True, text=True, timeout=60, env=dict(os.environ),
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["700", "600"]
    finally:
        probe.unlink(missing_ok=True)
