"""ARCH115/ARCH118: blocking work reached through a same-module sync helper, reported at the call site."""

from __future__ import annotations

from app.static.engine import ChangedPython, analyse

HELPERS = """import asyncio
import boto3
import requests
from fastapi import FastAPI

app = FastAPI()


def get_secret(name):
    client = boto3.client("secretsmanager")
    return client.get_secret_value(SecretId=name)["SecretString"]


def password():
    return get_secret("db")


def shape(x):
    return x.strip()


async def handler():
    return password()


async def offloaded():
    return await asyncio.to_thread(password)


async def harmless(x):
    return shape(x)


@app.get("/rates")
async def rates():
    return fetch()


def fetch():
    return requests.get("https://rates.internal", timeout=5).json()


class Service:
    def _load(self):
        return requests.get("https://cfg.internal", timeout=5).json()

    async def reload(self):
        self.cfg = self._load()
"""


def _lines(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), 1) if needle in line)


def _report(changed: set[int], path: str = "svc.py") -> list[tuple[str | None, int | None, str]]:
    report = analyse([ChangedPython(path, HELPERS, frozenset(changed))], run_ruff=False)
    return [(f.rule_id, f.line, f.rationale) for f in report.findings]


def test_chain_reported_at_the_call_site_with_the_chain() -> None:
    line = _lines(HELPERS, "    return password()")
    found = [f for f in _report({line}) if f[0] == "ARCH115"]
    assert [f[1] for f in found] == [line]
    assert "handler → password → get_secret → boto3 client.get_secret_value" in found[0][2]


def test_offloaded_and_harmless_helpers_are_silent() -> None:
    lines = {_lines(HELPERS, "asyncio.to_thread(password)"), _lines(HELPERS, "return shape(x)")}
    assert not [f for f in _report(lines) if f[0] in ("ARCH115", "ARCH118")]


def test_route_and_method_helpers() -> None:
    route, method = _lines(HELPERS, "return fetch()"), _lines(HELPERS, "self.cfg = self._load()")
    found = {(f[0], f[1]) for f in _report({route, method})}
    assert ("ARCH118", route) in found and ("ARCH115", method) in found


def test_change_in_the_helper_blocking_line_reports_the_unchanged_call_site() -> None:
    blocking = _lines(HELPERS, 'requests.get("https://rates.internal"')
    found = [f for f in _report({blocking}) if f[0] == "ARCH118"]
    assert len(found) == 1


def test_unrelated_change_reports_nothing() -> None:
    assert not [f for f in _report({_lines(HELPERS, "app = FastAPI()")}) if f[0] in ("ARCH115", "ARCH118")]
