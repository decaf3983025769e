"""Per-call values written into SDK module settings, and permits released outside `finally`."""

import asyncio
import os
import threading

import openai
import stripe
from fastapi import FastAPI, Request

app = FastAPI()
_GPU = asyncio.Semaphore(4)
_WRITE_LOCK = threading.Lock()
DEFAULT_BASE = os.environ.get("OPENAI_BASE", "https://api.openai.com/v1")


def complete_for_tenant(prompt: str, tenant_key: str, tenant_base: str) -> str:
    openai.api_key = tenant_key  # expect: per-call-module-config
    openai.api_base = tenant_base
    return openai.Completion.create(model="gpt-3.5-turbo-instruct", prompt=prompt).choices[0].text


def charge(customer: dict, amount: int) -> str:
    key = customer["stripe_key"]
    stripe.api_key = key  # expect: per-call-module-config
    return stripe.Charge.create(amount=amount, currency="eur").id


def stream_reply(model_name: str, messages: list, api_key: str | None = None):
    import openai as oa

    if model_name.startswith("azure-"):
        oa.api_type = "azure"  # near: per-call-module-config
    oa.api_key = api_key or os.environ["OPENAI_API_KEY"]  # expect: per-call-module-config
    return oa.ChatCompletion.create(model=model_name, messages=messages, stream=True)


def configure_openai(api_key: str) -> None:
    openai.api_key = api_key  # ok: per-call-module-config


def set_defaults() -> None:
    openai.api_base = DEFAULT_BASE  # ok: per-call-module-config


def complete_with_client(prompt: str, tenant_key: str, tenant_base: str) -> str:
    client = openai.OpenAI(api_key=tenant_key, base_url=tenant_base)  # ok: per-call-module-config
    return client.completions.create(model="gpt-3.5-turbo-instruct", prompt=prompt).choices[0].text


def charge_with_request_key(customer: dict, amount: int) -> str:
    return stripe.Charge.create(amount=amount, currency="eur", api_key=customer["stripe_key"]).id  # ok: per-call-module-config


class Settings:
    def apply(self, debug: bool) -> None:
        self.debug = debug  # ok: per-call-module-config


@app.post("/generate")
async def generate(request: Request) -> dict:
    params = await request.json()
    await _GPU.acquire()  # expect: release-not-in-finally
    output = await run_model(params)
    _GPU.release()
    return output


@app.post("/generate-safe")
async def generate_safe(request: Request) -> dict:
    params = await request.json()
    async with _GPU:  # ok: release-not-in-finally
        return await run_model(params)


@app.post("/generate-finally")
async def generate_finally(request: Request) -> dict:
    params = await request.json()
    await _GPU.acquire()  # ok: release-not-in-finally
    try:
        return await run_model(params)
    finally:
        _GPU.release()


def acquire_slot():
    return _GPU.acquire()


def release_slot() -> None:
    _GPU.release()


@app.post("/embed")
async def embed(request: Request) -> dict:
    params = await request.json()
    await acquire_slot()  # expect: release-not-in-finally
    vectors = await run_model(params)
    release_slot()
    return {"vectors": vectors}


@app.post("/embed-guarded")
async def embed_guarded(request: Request) -> dict:
    params = await request.json()
    await acquire_slot()  # ok: release-not-in-finally
    try:
        vectors = await run_model(params)
    except Exception:
        release_slot()
        raise
    release_slot()
    return {"vectors": vectors}


def append_record(path: str, line: str) -> None:
    _WRITE_LOCK.acquire()  # expect: release-not-in-finally
    with open(path, "a") as fh:
        fh.write(line)
    _WRITE_LOCK.release()


def flag_ready(flags: dict) -> None:
    _WRITE_LOCK.acquire()  # ok: release-not-in-finally
    ready = True
    _WRITE_LOCK.release()
    flags["ready"] = ready


def try_append(path: str, line: str) -> bool:
    if not _WRITE_LOCK.acquire(timeout=1):  # ok: release-not-in-finally
        return False
    try:
        with open(path, "a") as fh:
            fh.write(line)
    finally:
        _WRITE_LOCK.release()
    return True


async def run_model(params: dict) -> dict:
    await asyncio.sleep(0)
    return {"echo": params}
