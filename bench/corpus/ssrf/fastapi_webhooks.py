"""Webhook registration and link previews (FastAPI + httpx + requests)."""

from urllib.parse import quote, urlparse

import httpx
import requests
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

app = FastAPI()
ALLOWED_HOSTS = {"hooks.slack.com", "discord.com", "api.pagerduty.com"}
PARTNER_API = "https://partner.example.net/v2"
PROVIDERS = {"github": "https://api.github.com/meta", "gitlab": "https://gitlab.com/api/v4/metadata"}


class Hook(BaseModel):
    url: str
    event: str


@app.post("/hooks/test")
async def test_hook(hook: Hook) -> dict[str, int]:
    async with httpx.AsyncClient(timeout=5, follow_redirects=True) as client:
        resp = await client.post(hook.url, json={"event": hook.event})  # expect: ssrf
    return {"status": resp.status_code}


@app.post("/hooks/test-allowed")
async def test_hook_allowed(hook: Hook) -> dict[str, int]:
    if urlparse(hook.url).hostname not in ALLOWED_HOSTS:
        raise HTTPException(400, "host not allowed")
    async with httpx.AsyncClient(timeout=5) as client:
        resp = await client.post(hook.url, json={"event": hook.event})  # ok: ssrf
    return {"status": resp.status_code}


@app.get("/preview")
def preview(url: str) -> dict[str, str]:
    page = requests.get(url, timeout=5)  # expect: ssrf
    return {"title": page.text[:200]}


@app.get("/preview/allowed")
def preview_allowed(url: str) -> dict[str, str]:
    parsed = urlparse(url)
    if parsed.scheme != "https" or parsed.hostname not in ALLOWED_HOSTS:
        raise HTTPException(400, "host not allowed")
    page = requests.get(url, timeout=5, allow_redirects=False)  # ok: ssrf
    return {"title": page.text[:200]}


@app.get("/tenants/{tenant}/health")
def tenant_health(tenant: str) -> dict[str, int]:
    resp = requests.get(f"http://{tenant}.svc.cluster.local/healthz", timeout=3)  # expect: ssrf
    return {"status": resp.status_code}


@app.get("/partners/users/{user_id}")
def partner_user(user_id: str) -> dict:
    resp = requests.get(f"{PARTNER_API}/users/{quote(user_id, safe='')}", timeout=5)  # ok: ssrf
    return resp.json()


@app.get("/partners/orders/{order_id}")
async def partner_order(order_id: int) -> dict:
    async with httpx.AsyncClient(base_url=PARTNER_API, timeout=5) as client:
        resp = await client.get(f"/orders/{order_id}")  # ok: ssrf
    return resp.json()


@app.get("/providers/{name}/meta")
def provider_meta(name: str) -> dict:
    target = PROVIDERS.get(name)
    if target is None:
        raise HTTPException(404)
    return requests.get(target, timeout=5).json()  # ok: ssrf


@app.get("/forward")
async def forward(x_upstream: str = Header()) -> dict:
    async with httpx.AsyncClient(timeout=5) as client:
        resp = await client.get(f"https://{x_upstream}/status")  # expect: ssrf
    return resp.json()


@app.get("/meta/github")
def github_meta() -> dict:
    return requests.get("https://api.github.com/meta", timeout=5).json()  # ok: ssrf
