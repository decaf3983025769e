"""Test-path context, the committed-credential filters and ARCH150 (swallowed errors)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.repo_config import parse_repo_config
from app.review.models import Severity
from app.static.context import DEFAULT_TEST_PATHS, is_test_path
from app.static.engine import ChangedPython, analyse
from app.static.module_view import ModuleView
from app.static.swallowed import check_swallowed_errors

ROOT = Path(__file__).resolve().parent.parent
SLACK = "xoxb-" + "2024061812-7730815930-Hq8ZkR3wT5nV1pL6yX4cJ0aS"
NOISY = (
    "import asyncio\nimport requests\n"
    "async def test_x():\n    await asyncio.gather(a(), b())\n    requests.get('http://h')\n"
    f'TOKEN = "{SLACK}"\n'
)


def changed(path: str, source: str) -> ChangedPython:
    return ChangedPython(path, source, frozenset(range(1, source.count("\n") + 2)))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/a.py", True),
        ("pkg/tests/a.py", True),
        ("a/test_x.py", True),
        ("a/x_test.py", True),
        ("a/conftest.py", True),
        ("a/fixtures/b.py", True),
        ("examples/q.py", True),
        ("docs/conf.py", True),
        ("testing/x.py", True),
        ("app/main.py", False),
        ("app/latest.py", False),
        ("app/testsuite.py", False),
    ],
)
def test_default_test_paths(path: str, expected: bool) -> None:
    assert is_test_path(path, DEFAULT_TEST_PATHS) is expected


def test_only_confident_security_findings_stay_in_test_paths_capped_and_ungated() -> None:
    prod = analyse([changed("app/x.py", NOISY)], run_ruff=False).findings
    test = analyse([changed("tests/test_x.py", NOISY)], run_ruff=False).findings
    assert {"ARCH101", "ARCH105", "ARCH112"} <= {f.rule_id for f in prod}
    assert not any(f.in_test_path for f in prod)
    assert [f.rule_id for f in test] == ["ARCH112"]
    assert test[0].severity is Severity.LOW and test[0].in_test_path


def test_configured_test_paths_replace_the_defaults() -> None:
    config = parse_repo_config("review:\n  test_paths: ['qa/**']\n").config
    findings = analyse([changed("qa/x.py", NOISY)], run_ruff=False, test_paths=config.review.test_paths).findings
    assert all(f.in_test_path for f in findings)
    findings = analyse([changed("tests/x.py", NOISY)], run_ruff=False, test_paths=config.review.test_paths).findings
    assert not any(f.in_test_path for f in findings) and len(findings) >= 3


def _diff(path: str, source: str) -> str:
    lines = source.rstrip("\n").split("\n")
    body = "".join(f"+{line}\n" for line in lines)
    head = f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
    return head + f"@@ -0,0 +1,{len(lines)} @@\n{body}"


def _review(tmp_path: Path, path: str, config: str | None = None) -> subprocess.CompletedProcess[str]:
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(NOISY)
    if config is not None:
        (tmp_path / ".github").mkdir(exist_ok=True)
        (tmp_path / ".github" / "archbot.yml").write_text(config)
    patch = tmp_path / "change.patch"
    patch.write_text(_diff(path, NOISY))
    args = ["review", "--diff", str(patch), "--repo-dir", str(tmp_path), "--dry-run", "--format", "json"]
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args, "--fail-on", "low"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_cli_fail_on_ignores_test_path_findings(tmp_path: Path) -> None:
    done = _review(tmp_path, "tests/test_x.py")
    assert done.returncode == 0, done.stderr
    findings = json.loads(done.stdout)["findings"]
    assert findings and all(f["in_test_path"] for f in findings)


def test_cli_reads_test_paths_from_the_repo_config(tmp_path: Path) -> None:
    assert _review(tmp_path, "tests/test_x.py", "review:\n  test_paths: ['qa/**']\n").returncode == 1


# ---- committed credentials ---------------------------------------------------------------------


def secrets_in(source: str) -> list[str]:
    return [f.title for f in analyse([changed("app/s.py", source)], run_ruff=False).findings if f.rule_id == "ARCH112"]


@pytest.mark.parametrize(
    "source",
    [
        'KEY_ID = "AKIAIOSFODNN7EXAMPLE"\n',
        'SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n',
        'api_key = "dummy-9f8e7d6c5b4a3f2e1d0c"\n',
        'HEADER = "Authorization: Bearer {secret_token}"\n',
        'DSN = "postgresql://${DB_USER}:${DB_PASSWORD}@${DB_HOST}/app"\n',
        'FORM = "user=%(user)s&password=%(password)s"\n',
        'TOKEN = "<token>"\n',
        'DSN = "postgresql://user:pass@db.example.com:5432/app"\n',
        'DSN = "redis://admin:admin@localhost:6379/0"\n',
        f'def f(t):\n    assert t == "{SLACK}"\n',
        f'def f(t):\n    if t == "{SLACK}":\n        return 1\n',
    ],
    ids=[
        "aws-id",
        "aws-secret",
        "dummy",
        "brace",
        "dollar",
        "percent",
        "angle",
        "example-host",
        "local",
        "assert",
        "if",
    ],
)
def test_placeholders_and_compared_values_are_not_credentials(source: str) -> None:
    assert secrets_in(source) == []


@pytest.mark.parametrize(
    "source",
    [
        'GITHUB_TOKEN = "ghp_' + "R7yW2mQ9xK4vB8nL3pT6sZ1cF5hJ0dG7aE2u" + '"\n',
        'STRIPE = "sk_live_' + "51Mz8QwLkT4vXb2RnP7sYc3HdJ6fGa9UeK0mNq" + '"\n',
        f'SLACK = "{SLACK}"\n',
        'DATABASE_URL = "postgresql://orders:Wq7vR2nXk9@db-primary.internal:5432/orders"\n',
    ],
    ids=["github", "stripe", "slack", "url"],
)
def test_real_tokens_are_kept(source: str) -> None:
    assert len(secrets_in(source)) == 1


def test_one_finding_per_statement() -> None:
    source = f'CREDS = {{"a": "{SLACK}", "b": "{SLACK.replace("Hq8", "Zz1")}"}}\n'
    assert len(secrets_in(source)) == 1


# ---- ARCH150 -----------------------------------------------------------------------------------


def swallowed(source: str) -> list[int]:
    tree = ast.parse(source)
    return [raw.line for raw in check_swallowed_errors(ModuleView(tree, "m.py", source.split("\n"), frozenset()))]


@pytest.mark.parametrize(
    "body",
    ["pass", "...", "return None", "return {}", "return", "return default", "return Response({})"],
)
def test_broad_handler_that_drops_the_error_is_reported(body: str) -> None:
    source = f"def f(x, default):\n    try:\n        return x()\n    except Exception:\n        {body}\n"
    assert swallowed(source) == [4]


def test_continue_in_a_loop_is_reported_but_not_a_retry_that_raises() -> None:
    loop = "def f(xs):\n    for x in xs:\n        try:\n            x()\n        except:\n            continue\n"
    assert swallowed(loop) == [5]
    assert swallowed(loop + "    raise RuntimeError('gave up')\n") == []


@pytest.mark.parametrize(
    "source",
    [
        "def f(x, log):\n    try:\n        x()\n    except Exception:\n        log.warning('x', exc_info=True)\n",
        "def f(x):\n    try:\n        x()\n    except Exception:\n        raise\n",
        "def f(x):\n    try:\n        x()\n    except Exception as exc:\n        raise ValueError('x') from exc\n",
        "def f(x, job):\n    try:\n        x()\n    except Exception as exc:\n        job.error = repr(exc)\n",
        "def f(acl, u):\n    try:\n        return acl.check(u)\n    except Exception:\n        return False\n",
        "def f(x):\n    try:\n        x()\n    except ValueError:\n        pass\n",
        "import json\ndef f(raw):\n    try:\n        return json.loads(raw)\n"
        "    except Exception:\n        return raw\n",
        "def f(m):\n    p = None\n    try:\n        p = m.find()\n    except Exception:\n        pass\n"
        "    if not p:\n        p = 'uv'\n    return p\n",
        "try:\n    import ujson\nexcept Exception:\n    pass\n",
        "def f(m):\n    p = None\n    if m:\n        try:\n            p = m.find()\n        except Exception:\n"
        "            pass\n    return p or 'uv'\n",
    ],
    ids=[
        "logged",
        "reraise",
        "convert",
        "store",
        "fail-closed",
        "narrow",
        "raw-fallback",
        "next-line",
        "import",
        "nested-next-line",
    ],
)
def test_handlers_that_keep_the_error_are_quiet(source: str) -> None:
    assert swallowed(source) == []
