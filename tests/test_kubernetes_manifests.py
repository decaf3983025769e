"""deploy/kubernetes: every manifest valid against the Kubernetes schemas (offline), and the properties
a cluster operator relies on: probes, non-root, read-only root filesystem, Secret references only,
settings that exist, a grace period that covers a review, and a kustomization that lists every file."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from app.cli import _parse
from app.settings import Settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "kubernetes"
K8S_VERSION = "1.33.0"  # oldest version we promise; the schemas ship with the package (no download)
NOT_APPLIED = {"kustomization.yaml", "secret.example.yaml"}
SECRETISH = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|DATABASE_URL", re.IGNORECASE)


def documents() -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] = {}
    for path in sorted(DEPLOY.glob("*.yaml")):
        [doc] = list(yaml.safe_load_all(path.read_text()))
        docs[path.name] = doc
    return docs


DOCS = documents()
APPLIED = {name: doc for name, doc in DOCS.items() if name not in NOT_APPLIED}


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


WORKLOADS = {name: doc for name, doc in APPLIED.items() if doc["kind"] in {"Deployment", "Job"}}


@pytest.mark.parametrize("name", sorted(set(DOCS) - {"kustomization.yaml"}))
def test_manifest_is_valid_kubernetes(name: str) -> None:
    kubernetes_validate.validate(DOCS[name], K8S_VERSION, strict=True)  # raises on any schema error


def test_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    kustomization = DOCS["kustomization.yaml"]
    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == sorted(APPLIED)
    assert not any(doc["kind"] == "Secret" for doc in APPLIED.values())  # no secret is ever shipped


def test_the_pieces_scale_out_needs_are_all_there() -> None:
    kinds = sorted((doc["kind"], doc["metadata"]["name"]) for doc in APPLIED.values())
    for expected in [
        ("Deployment", "archbot-receiver"),
        ("Deployment", "archbot-worker"),
        ("Service", "archbot-receiver"),
        ("HorizontalPodAutoscaler", "archbot-worker"),
        ("PodDisruptionBudget", "archbot-receiver"),
        ("PodDisruptionBudget", "archbot-worker"),
        ("Job", "archbot-db-migrate"),
        ("ConfigMap", "archbot"),
    ]:
        assert expected in kinds
    assert APPLIED["worker-hpa.yaml"]["spec"]["scaleTargetRef"]["name"] == "archbot-worker"


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_workloads_run_non_root_on_a_read_only_filesystem(name: str) -> None:
    spec = pod_spec(WORKLOADS[name])
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 10001
    assert spec["automountServiceAccountToken"] is False
    for container in spec["containers"]:
        ctx = container["securityContext"]
        assert ctx["readOnlyRootFilesystem"] is True and ctx["allowPrivilegeEscalation"] is False
        assert ctx["capabilities"]["drop"] == ["ALL"]
        assert {"requests", "limits"} <= set(container["resources"])
        image = container["image"]
        assert ":" in image and not image.endswith(":latest")  # pinned by tag
        mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
        assert "/tmp" in mounts  # ruff and tempfile need a writable /tmp on a read-only root


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_secrets_are_references_and_every_setting_exists(name: str) -> None:
    fields = {field.upper() for field in Settings.model_fields}
    for container in pod_spec(WORKLOADS[name])["containers"]:
        for env in container.get("env", []):
            assert env["name"] in fields, env["name"]
            if SECRETISH.search(env["name"]) or env["name"] == "GITHUB_APP_ID":
                assert "value" not in env and env["valueFrom"]["secretKeyRef"]["name"] == "archbot"
        assert [ref["configMapRef"]["name"] for ref in container["envFrom"]] == ["archbot"]
    for key in APPLIED["configmap.yaml"]["data"]:
        assert key in fields and not SECRETISH.search(key), key


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_container_commands_are_archbot_commands(name: str) -> None:
    for container in pod_spec(WORKLOADS[name])["containers"]:
        program, *argv = container["args"]
        assert program == "archbot"
        _parse(argv)  # argparse exits on an unknown command or option


def test_probes_use_healthz_and_readyz() -> None:
    [receiver] = pod_spec(APPLIED["receiver-deployment.yaml"])["containers"]
    assert receiver["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert receiver["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert receiver["args"][:2] == ["archbot", "serve"]
    service = APPLIED["receiver-service.yaml"]
    assert service["spec"]["selector"] == APPLIED["receiver-deployment.yaml"]["spec"]["selector"]["matchLabels"]


def test_a_stopping_worker_has_time_to_finish_a_review() -> None:
    config = APPLIED["configmap.yaml"]["data"]
    settings = Settings.model_validate(
        {key.lower(): value for key, value in config.items()}
    )  # the ConfigMap's values parse as archbot settings
    spec = pod_spec(APPLIED["worker-deployment.yaml"])
    assert spec["terminationGracePeriodSeconds"] > settings.archbot_worker_shutdown_grace
    assert settings.archbot_worker_shutdown_grace >= settings.archbot_review_deadline
    [worker] = spec["containers"]
    assert worker["args"][:2] == ["archbot", "worker"]
    assert "livenessProbe" not in worker  # the worker serves no HTTP; a stuck job is caught by its lease


def test_the_migration_job_runs_db_migrate() -> None:
    [container] = pod_spec(APPLIED["migrate-job.yaml"])["containers"]
    assert shlex.join(container["args"]) == "archbot db migrate"
