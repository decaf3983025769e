"""ARCH119 (per-call values written into an SDK module's settings) and ARCH130 (a lock or semaphore
released only when nothing raises), through the engine's entry point."""

from __future__ import annotations

import pytest

from app.static.engine import ChangedPython, analyse

SDK = """import os
import openai
import stripe


def complete(prompt, tenant_key, base=None):
    import openai as oa
    if base:
        oa.api_type = "azure"
    oa.api_base = base or "https://api.openai.com/v1"
    oa.api_key = tenant_key
    return oa.Completion.create(prompt=prompt)


def charge(customer, amount):
    key = customer["key"]
    stripe.api_key = key
    return stripe.Charge.create(amount=amount)


def configure(api_key):
    openai.api_key = api_key


def defaults():
    openai.api_base = "https://api.openai.com/v1"


def scoped(key):
    with override(openai):
        openai.api_key = key


def local_module(path):
    os.environ["X"] = path


if __name__ == "__main__":
    def run(key):
        openai.api_key = key
"""

PERMITS = """import asyncio
import threading

SEM = asyncio.Semaphore(2)
LOCK = threading.Lock()


async def bad(model, params):
    await SEM.acquire()
    out = await model(params)
    SEM.release()
    return out


async def good(model, params):
    await SEM.acquire()
    try:
        return await model(params)
    finally:
        SEM.release()


def helper_bad(work):
    acquire_slot()
    work()
    release_slot()


def helper_guarded(work):
    acquire_slot()
    try:
        work()
    except Exception:
        release_slot()
        raise
    release_slot()


def nothing_between():
    LOCK.acquire()
    LOCK.release()


def constant_between(flags):
    LOCK.acquire()
    ready = True
    LOCK.release()
    flags["ready"] = ready


def conditional(work):
    if not LOCK.acquire(timeout=1):
        return
    work()
    LOCK.release()


def other_lock(a, b, work):
    a.acquire()
    work()
    b.release()
"""


def _lines(source: str, needle: str) -> int:
    return next(n for n, line in enumerate(source.split("\n"), 1) if needle in line)


def _found(source: str, rule: str, changed: set[int] | None = None, path: str = "svc.py") -> list[tuple[int, str]]:
    lines = frozenset(changed if changed is not None else range(1, source.count("\n") + 2))
    report = analyse([ChangedPython(path, source, lines)], run_ruff=False)
    return [(f.line or 0, f.rationale) for f in report.findings if f.rule_id == rule]


def test_per_call_sdk_settings_are_reported_once_per_function() -> None:
    found = _found(SDK, "ARCH119")
    assert [line for line, _ in found] == [_lines(SDK, "oa.api_base ="), _lines(SDK, "stripe.api_key = key")]
    first = found[0][1]
    assert "`openai.api_base`" in first and "`openai.api_key`" in first and "`openai.api_type`" in first


@pytest.mark.parametrize("needle", ["openai.api_key = api_key", 'openai.api_base = "https', "openai.api_key = key"])
def test_startup_constant_scoped_and_main_writes_are_silent(needle: str) -> None:
    lines = {n for n, line in enumerate(SDK.split("\n"), 1) if needle in line}
    assert lines and _found(SDK, "ARCH119", lines) == []


def test_a_changed_branch_write_reports_the_function() -> None:
    changed = {_lines(SDK, 'oa.api_type = "azure"')}
    assert [line for line, _ in _found(SDK, "ARCH119", changed)] == list(changed)


def test_unrelated_change_and_test_paths_are_silent() -> None:
    assert _found(SDK, "ARCH119", {_lines(SDK, "return stripe.Charge")}) == []
    assert _found(SDK, "ARCH119", path="tests/test_billing.py") == []


def test_release_outside_finally() -> None:
    found = _found(PERMITS, "ARCH130")
    assert [line for line, _ in found] == [
        _lines(PERMITS, "await SEM.acquire()"),
        _lines(PERMITS, "    acquire_slot()"),
    ]
    assert f"line {_lines(PERMITS, '    SEM.release()')}" in found[0][1]


def test_release_change_alone_reports_the_acquire() -> None:
    release = _lines(PERMITS, "    SEM.release()")
    assert [line for line, _ in _found(PERMITS, "ARCH130", {release})] == [release]
