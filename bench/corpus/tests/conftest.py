"""Shared fixtures of a service's test suite: a dummy AWS account, a throwaway database, payloads."""

import json
import os
import subprocess
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")  # ok: hardcoded-secret
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")  # ok: hardcoded-secret
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def database_url() -> str:
    return "postgresql://test:test@localhost:5432/test_app"  # ok: hardcoded-secret


@pytest.fixture
def admin_user() -> dict[str, str]:
    return {"username": "admin", "password": "correct-horse-battery"}  # ok: hardcoded-secret


@pytest.fixture
async def payload() -> dict:
    return json.loads((FIXTURES / "order.json").read_text())  # ok: blocking-io


@pytest.fixture
async def invoice_xml() -> bytes:
    with open(FIXTURES / "invoice.xml", "rb") as fh:  # ok: blocking-io
        return fh.read()


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "app.db"
    subprocess.run(["alembic", "upgrade", "head"], check=True, env={**os.environ, "DB": str(path)})  # ok: command-injection
    return path


@pytest.fixture
def socket_path() -> str:
    return "/tmp/app-test.sock"  # ok: insecure-temp
