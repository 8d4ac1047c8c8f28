"""data/stories/ is not a file nothing reads: the rules are trained against it. A story the rules
contradict stops `rasa train` (RulePolicy's check), naming the story; ours train cleanly."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RASA = Path(sys.executable).parent / "rasa"


def train_core(tmp_path: Path, extra_story: str = "") -> subprocess.CompletedProcess:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "rules", data / "rules")
    shutil.copytree(ROOT / "data" / "stories", data / "stories")
    if extra_story:
        (data / "stories" / "broken.yml").write_text(extra_story, encoding="utf-8")
    return subprocess.run(
        [str(RASA), "train", "core", "--config", str(ROOT / "config.yml"), "--domain", str(ROOT / "domain.yml"),
         "--stories", str(data), "--out", str(tmp_path / "models"), "--fixed-model-name", "core"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )


def test_the_stories_name_the_conversations_three_paths():
    stories = yaml.safe_load((ROOT / "data" / "stories" / "conversations.yml").read_text(encoding="utf-8"))["stories"]
    actions = [[s.get("action") for s in story["steps"]] for story in stories]
    assert any("action_answer_question" in a and a.count("action_continue") >= 2 for a in actions)  # digressions
    assert any("action_pause_diagnostic" in a and a.count("action_start_diagnostic") == 2 for a in actions)
    assert any("action_diagnostic_verdict" in a and "action_submit_lead" in a for a in actions)


def test_rules_and_stories_train_together_and_a_contradiction_stops_the_training(tmp_path):
    assert train_core(tmp_path / "ours").returncode == 0
    broken = """version: "3.1"
stories:
  - story: a greeting answered with a goodbye
    steps:
      - intent: greet
      - action: action_goodbye
"""
    failed = train_core(tmp_path / "broken", broken)
    assert failed.returncode != 0
    assert "a greeting answered with a goodbye" in failed.stdout + failed.stderr
