"""Status proxy, before the change: the upstream always comes from configuration."""

import httpx
from fastapi import FastAPI

app = FastAPI()
UPSTREAM = "https://status.internal"


@app.get("/status/{component}")
async def status(component: str) -> dict:
    async with httpx.AsyncClient(base_url=UPSTREAM, timeout=5) as client:
        resp = await client.get("/components", params={"name": component})  # ok: ssrf
    return resp.json()
