"""scripts/lib.sh's Ctrl-C clean-up (make run, make shell, make run-prod): every server stops,
and one that ignores SIGTERM is named and killed after the grace period."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

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
