"""Broad exception handlers in services: the ones that lose the error and the ones that do not."""

import json
import logging
import traceback
from dataclasses import dataclass

import requests
import sentry_sdk
from fastapi import FastAPI
from fastapi.responses import JSONResponse

log = logging.getLogger(__name__)
app = FastAPI()


class UpstreamError(Exception):
    """The partner API failed."""


@dataclass
class Job:
    status: str = "new"
    error: str | None = None


def load_prefs(raw: str) -> dict:
    try:
        return json.loads(raw)
    except Exception:  # expect: swallowed-error
        return {}


def load_prefs_logged(raw: str) -> dict:
    try:
        return json.loads(raw)
    except Exception:  # ok: swallowed-error
        log.warning("bad preferences payload, using defaults", exc_info=True)
        return {}


def load_prefs_narrow(raw: str) -> dict | None:
    try:
        return json.loads(raw)
    except ValueError:  # ok: swallowed-error
        return None


def notify(url: str, event: dict) -> None:
    try:
        requests.post(url, json=event, timeout=5)
    except Exception:  # expect: swallowed-error
        pass


def notify_reported(url: str, event: dict) -> None:
    try:
        requests.post(url, json=event, timeout=5)
    except Exception:  # ok: swallowed-error
        sentry_sdk.capture_exception()


def sync_all(urls: list[str]) -> int:
    done = 0
    for url in urls:
        try:
            requests.put(url, timeout=5).raise_for_status()
            done += 1
        except Exception:  # expect: swallowed-error
            continue
    return done


def sync_all_collected(urls: list[str]) -> list[Exception]:
    failures: list[Exception] = []
    for url in urls:
        try:
            requests.put(url, timeout=5).raise_for_status()
        except Exception as exc:  # ok: swallowed-error
            failures.append(exc)
    return failures


def fetch_partner(url: str) -> dict:
    try:
        return requests.get(url, timeout=5).json()
    except Exception as exc:  # ok: swallowed-error
        raise UpstreamError(f"partner fetch failed: {url}") from exc


def fetch_partner_counted(url: str, metrics) -> dict:
    try:
        return requests.get(url, timeout=5).json()
    except Exception:  # ok: swallowed-error
        metrics.increment("partner.errors")
        raise


def fetch_partner_quiet(url: str) -> dict | None:
    try:
        return requests.get(url, timeout=5).json()
    except Exception as e:  # expect: swallowed-error
        return None


def run_job(job: Job, work) -> None:
    try:
        work()
        job.status = "done"
    except Exception as exc:  # ok: swallowed-error
        job.status = "failed"
        job.error = repr(exc)


def is_allowed(user: str, acl_client) -> bool:
    try:
        return acl_client.check(user)
    except Exception:  # ok: swallowed-error
        return False


def cleanup(paths: list[str], remove) -> None:
    for path in paths:
        try:
            remove(path)
        except:  # expect: swallowed-error
            pass


def cleanup_logged(paths: list[str], remove) -> None:
    for path in paths:
        try:
            remove(path)
        except Exception:  # ok: swallowed-error
            traceback.print_exc()


@app.get("/report")
async def report() -> JSONResponse:
    try:
        return JSONResponse(await build_report())
    except Exception as exc:  # ok: swallowed-error
        log.exception("report failed")
        return JSONResponse({"error": type(exc).__name__}, status_code=500)


@app.get("/report/quiet")
async def report_quiet() -> JSONResponse:
    try:
        return JSONResponse(await build_report())
    except BaseException:  # expect: swallowed-error, swallowed-cancel
        return JSONResponse({})


async def build_report() -> dict:
    return {"rows": []}


def parse_port(value: str, default: int = 8080) -> int:
    try:
        return int(value)
    except Exception:  # expect: swallowed-error
        return default


def shutdown(server) -> None:
    try:
        server.close()
    except Exception:  # ok: swallowed-error
        log.debug("server already closed", exc_info=True)
