"""End-to-end tests of the API: tokens, webhooks, downloads (dummy values throughout)."""

import asyncio
import random
import subprocess
import time
import xml.etree.ElementTree as ET

import jwt
import requests

TEST_SECRET = "test-secret"  # ok: hardcoded-secret
WEBHOOK_SECRET = "not-a-real-secret"  # ok: hardcoded-secret
API_TOKEN = "ghp_" + "0" * 36  # ok: hardcoded-secret
SNIPPET = "result = sum(range(10))"


def make_token(sub: str) -> str:
    return jwt.encode({"sub": sub}, TEST_SECRET, algorithm="HS256")


def test_token_claims() -> None:
    claims = jwt.decode(make_token("u1"), options={"verify_signature": False})  # ok: jwt-unverified
    assert claims["sub"] == "u1"


def test_login(client) -> None:
    resp = client.post("/login", data={"username": "alice", "password": "hunter2"})  # ok: hardcoded-secret
    assert resp.status_code == 200


def test_password_is_checked(client) -> None:
    resp = client.post("/login", data={"username": "alice", "password": "wrong"})  # ok: hardcoded-secret
    assert resp.status_code == 401


def test_cli_help() -> None:
    done = subprocess.run(["app", "--help"], capture_output=True, text=True, check=False)  # ok: command-injection
    assert done.returncode == 0


def test_snippet_runs() -> None:
    scope: dict = {}
    exec(SNIPPET, {}, scope)  # ok: code-injection
    assert scope["result"] == 45


def test_random_ids_are_unique(client) -> None:
    ids = {client.post("/items", json={"n": random.randint(1, 100)}).json()["id"] for _ in range(20)}  # ok: insecure-random
    assert len(ids) == 20


def test_invoice_parses(invoice_xml: bytes) -> None:
    root = ET.fromstring(invoice_xml)  # ok: xxe
    assert root.tag == "invoice"


def test_healthz_live_server(live_server_url: str) -> None:
    assert requests.get(f"{live_server_url}/healthz").status_code == 200  # ok: no-timeout, ssrf


async def test_slow_upstream(fake_upstream) -> None:
    fake_upstream.delay = 0.1
    time.sleep(0.2)  # ok: blocking-sleep
    await asyncio.sleep(0)


def test_teardown_tolerates_missing(tmp_path) -> None:
    try:
        (tmp_path / "gone").unlink()
    except Exception:  # ok: swallowed-error
        pass
