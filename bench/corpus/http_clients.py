"""Outbound HTTP for a feature-enrichment service: partner APIs, webhooks and a model registry."""

import contextlib
import ssl
import urllib.request
from collections.abc import AsyncIterator

import aiohttp
import httpx
import requests
from fastapi import FastAPI

PARTNER_URL = "https://partner.example.com/v2"


async def get_partner_score(user_id: str) -> float:
    client = httpx.AsyncClient(base_url=PARTNER_URL)  # expect: client-leak
    resp = await client.get(f"/scores/{user_id}")
    return resp.json()["score"]


async def get_partner_profile(user_id: str) -> dict:
    return (await httpx.AsyncClient().get(f"{PARTNER_URL}/profiles/{user_id}")).json()  # expect: client-leak


async def get_partner_score_scoped(user_id: str) -> float:
    async with httpx.AsyncClient(base_url=PARTNER_URL, timeout=5.0) as client:
        resp = await client.get(f"/scores/{user_id}")
    return resp.json()["score"]


async def get_partner_score_closed(user_id: str) -> float:
    client = httpx.AsyncClient(base_url=PARTNER_URL, timeout=5.0)
    try:
        resp = await client.get(f"/scores/{user_id}")
        return resp.json()["score"]
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.http = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0))
    try:
        yield
    finally:
        await app.state.http.aclose()


async def post_webhook(url: str, body: dict) -> int:
    async with aiohttp.ClientSession() as session:  # expect: no-timeout
        async with session.post(url, json=body) as resp:
            return resp.status


async def post_webhook_bounded(url: str, body: dict) -> int:
    timeout = aiohttp.ClientTimeout(total=10, connect=3)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.post(url, json=body) as resp:
            return resp.status


async def stream_model(url: str) -> bytes:
    async with httpx.AsyncClient(timeout=None) as client:  # expect: no-timeout
        resp = await client.get(url)
        return resp.content


def download_manifest(url: str) -> dict:
    return requests.get(url).json()  # expect: no-timeout


def download_manifest_bounded(url: str) -> dict:
    return requests.get(url, timeout=(3.05, 27)).json()


def sync_registry_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = "feature-svc"
    return session


def list_models(session: requests.Session, url: str) -> list[str]:
    return session.get(url, timeout=5).json()["models"]


def fetch_legacy(url: str) -> bytes:
    with urllib.request.urlopen(url) as resp:  # expect: no-timeout, unvalidated-url
        return resp.read()


def fetch_internal(url: str) -> dict:
    return requests.get(url, verify=False, timeout=5).json()  # expect: tls-off


async def fetch_internal_async(url: str) -> dict:
    async with httpx.AsyncClient(verify=False, timeout=5) as client:  # expect: tls-off
        return (await client.get(url)).json()


async def fetch_partner_unverified(session: aiohttp.ClientSession, url: str) -> bytes:
    async with session.get(url, ssl=False) as resp:  # expect: tls-off
        return await resp.read()


def legacy_tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False  # expect: tls-off
    ctx.verify_mode = ssl.CERT_NONE  # expect: tls-off
    return ctx


def private_ca_context(ca_path: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_path)
