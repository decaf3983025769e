"""Repository context through the console script: the dry run names the excerpts each call includes and
those left out (with tokens), and the model request carries them, delimited and line-numbered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fakemodel import FakeModel, serve_model

ROOT = Path(__file__).resolve().parent.parent

HELPERS = '''"""Secrets."""
import urllib.request


def load_secret(name: str) -> str:
    """Blocks on the secret manager."""
    return urllib.request.urlopen("http://secrets.internal/" + name).read().decode()
'''
SETTINGS = '''"""Settings."""


class Settings:
    EXPOSE_ADMIN: bool = True


settings = Settings()
'''
OLD_APP = '''"""Routes."""
from svc import helpers
from svc.settings import settings


async def handler(request: object) -> str:
    user = "anonymous"
    return user
'''
NEW_APP = OLD_APP.replace(
    '    user = "anonymous"\n',
    '    user = "anonymous"\n    if settings.EXPOSE_ADMIN:\n        user = helpers.load_secret("admin")\n',
)
DIFF = (
    "diff --git a/svc/app.py b/svc/app.py\n--- a/svc/app.py\n+++ b/svc/app.py\n"
    "@@ -5,4 +5,6 @@ from svc.settings import settings\n \n async def handler(request: object) -> str:\n"
    '     user = "anonymous"\n+    if settings.EXPOSE_ADMIN:\n+        user = helpers.load_secret("admin")\n'
    "     return user\n"
)


def checkout(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    for path, text in {"svc/app.py": NEW_APP, "svc/helpers.py": HELPERS, "svc/settings.py": SETTINGS}.items():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_text(text, encoding="utf-8")
    (tmp_path / "change.diff").write_text(DIFF, encoding="utf-8")
    return tree


def archbot(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "ARCHBOT_", "GITHUB_"))}
    command = [sys.executable, "-m", "app.cli", "review", "--diff", str(tmp_path / "change.diff")]
    command += ["--repo-dir", str(tmp_path / "tree"), *args]
    return subprocess.run(
        command, capture_output=True, text=True, env={**base, **(env or {})}, cwd=ROOT, timeout=120, check=False
    )


def config(tmp_path: Path, share: float) -> str:
    path = tmp_path / f"archbot-{share}.yml"
    path.write_text(f"review:\n  context_share: {share}\n", encoding="utf-8")
    return str(path)


def test_dry_run_lists_the_included_context_with_tokens(tmp_path: Path) -> None:
    checkout(tmp_path)
    done = archbot(tmp_path, "--dry-run")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "excerpt(s)" in out
    assert "included `svc/helpers.py:5-7` callee `load_secret`" in out
    assert "included `svc/settings.py:4-5` setting `Settings.EXPOSE_ADMIN`" in out
    assert "left out" not in out


def test_dry_run_names_what_a_small_share_leaves_out(tmp_path: Path) -> None:
    checkout(tmp_path)
    done = archbot(tmp_path, "--dry-run", "--config", config(tmp_path, 0.002))
    assert done.returncode == 0, done.stderr
    assert "included `svc/helpers.py" not in done.stdout
    assert "left out `svc/helpers.py:5-7` callee `load_secret`" in done.stdout
    assert "tokens: over the context budget)" in done.stdout


def test_share_zero_turns_the_context_off(tmp_path: Path) -> None:
    checkout(tmp_path)
    done = archbot(tmp_path, "--dry-run", "--config", config(tmp_path, 0))
    assert done.returncode == 0, done.stderr
    assert "included `" not in done.stdout and "left out `" not in done.stdout


def test_the_model_call_carries_the_context_as_numbered_untrusted_excerpts(tmp_path: Path) -> None:
    checkout(tmp_path)
    fake = FakeModel()
    with serve_model(fake) as url:
        done = archbot(tmp_path, "--format", "json", env={"ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": "test-key"})
    assert done.returncode in (0, 1), done.stderr
    json.loads(done.stdout)
    [call] = fake.calls("submit_review")
    user = "\n".join(b["text"] for b in call["messages"][0]["content"] if b.get("type") == "text")
    context = user.split("## Repository context (not part of the diff)", 1)[1]
    assert "### Context: svc/helpers.py lines 5-7" in context
    assert '   7 |     return urllib.request.urlopen("http://secrets.internal/" + name).read().decode()' in context
    assert "risk: network" in context
    assert "   5 |     EXPOSE_ADMIN: bool = True" in context
    # the diff is not repeated as context, and context lines carry no diff coordinates
    assert "helpers.load_secret" not in context.split("### Context:", 1)[1]
    assert "R   5" not in context
