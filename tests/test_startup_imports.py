"""Start-up cost: the CLI loads the model SDK, githubkit and the web stack only on the paths that use them.

Each case runs a fresh interpreter (``python -c``) that calls the console script's entry point,
``app.cli.main``, with real arguments and then prints which heavy packages ended up in
``sys.modules``. Timings are measured by ``bench/startup.py``, never asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ranking-service.patch"
EXAMPLE_DIR = ROOT / "examples" / "ranking-service"
HEAVY = ("anthropic", "githubkit", "fastapi", "uvicorn")

PROBE = f"""
import json, sys
from app.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set({list(HEAVY)!r}))
sys.stderr.write("\\nPROBE " + json.dumps({{"code": code, "loaded": loaded}}) + "\\n")
"""


def probe(*args: str, env: dict[str, str] | None = None) -> tuple[int, list[str], subprocess.CompletedProcess[str]]:
    """Run ``archbot ARGS`` in a fresh interpreter; its exit code and the heavy packages it imported."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "ARCHBOT_", "GITHUB_"))}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=clean | (env or {}),
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    line = next((x for x in done.stderr.splitlines() if x.startswith("PROBE ")), None)
    assert line is not None, done.stderr
    report = json.loads(line.removeprefix("PROBE "))
    return int(report["code"]), list(report["loaded"]), done


def test_help_imports_no_sdk() -> None:
    code, loaded, done = probe("--help")
    assert code == 0 and "review" in done.stdout
    assert loaded == []


@pytest.mark.parametrize("key", [None, "sk-test-not-used"])
def test_review_dry_run_imports_no_sdk_even_with_a_key(key: str | None) -> None:
    env = {"ANTHROPIC_API_KEY": key} if key else {}
    code, loaded, done = probe("review", "--diff", str(EXAMPLE), "--repo-dir", str(EXAMPLE_DIR), "--dry-run", env=env)
    assert code == 0, done.stderr
    assert "Dry run: what would be sent to the model" in done.stdout
    assert loaded == []


def test_offline_review_without_a_key_imports_no_sdk() -> None:
    code, loaded, done = probe("review", "--diff", str(EXAMPLE), "--repo-dir", str(EXAMPLE_DIR), "--format", "json")
    assert code == 0, done.stderr
    assert json.loads(done.stdout[: done.stdout.rindex("}") + 1])["findings"]
    assert loaded == []


def test_review_with_a_key_loads_the_sdk_and_nothing_else() -> None:
    """The other side of the coin: building the model does import anthropic (and still not githubkit).

    The base URL points at a closed local port, so the one model call fails at once, offline."""
    env = {"ANTHROPIC_API_KEY": "sk-test", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9", "ARCHBOT_MODEL_TIMEOUT": "2"}
    code, loaded, done = probe("review", "--diff", str(EXAMPLE), "--repo-dir", str(EXAMPLE_DIR), env=env)
    assert code == 1, done.stderr  # the model was unreachable
    assert loaded == ["anthropic"]


def test_plan_without_a_key_imports_no_sdk() -> None:
    code, loaded, done = probe("plan", str(ROOT / "README.md"))
    assert code == 2 and "ANTHROPIC_API_KEY" in done.stderr
    assert loaded == []


def test_core_and_worker_modules_import_without_sdk_or_web_stack() -> None:
    """The review core depends on the model protocol only; the worker never loads fastapi or uvicorn."""
    code = (
        "import sys\n"
        "import app.review.engine, app.design.engine, app.design.docs, app.review.model_api\n"
        "import app.local, app.local_plan, app.pipeline.model_provider\n"
        "core = sorted({n.split('.')[0] for n in sys.modules} & {'anthropic', 'githubkit', 'fastapi', 'uvicorn'})\n"
        "import app.serve, app.pipeline.pr_review, app.pipeline.issue_jobs, app.action\n"
        "worker = sorted({n.split('.')[0] for n in sys.modules} & {'anthropic', 'fastapi', 'uvicorn'})\n"
        "print(core, worker)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120, check=True
    )
    assert done.stdout.strip() == "[] []"
