"""``app.warmup`` (run by ``archbot serve`` before it listens): githubkit's models are loaded, the GIL
switch interval is 1 ms and the start-up heap is frozen. In a subprocess: it changes process-wide state."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import gc, sys
from githubkit import GitHub
from app.warmup import GITHUB_MODELS, warm_up
before = gc.get_freeze_count()
loaded = warm_up(GitHub("ghs_x"))
print(loaded, len(GITHUB_MODELS), sys.getswitchinterval(), before, gc.get_freeze_count() > before)
"""


def test_warm_up_loads_models_sets_the_switch_interval_and_freezes_the_heap() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    loaded, expected, interval, before, frozen = done.stdout.split()
    assert loaded == expected
    assert float(interval) == 0.001
    assert before == "0" and frozen == "True"
