"""Status proxy, after the change: callers may pass their own upstream; the request line is unchanged."""

import httpx
from fastapi import FastAPI

app = FastAPI()
UPSTREAM = "https://status.internal"


@app.get("/status/{component}")
async def status(component: str, upstream: str = UPSTREAM) -> dict:
    async with httpx.AsyncClient(base_url=upstream, timeout=5) as client:  # near: ssrf
        resp = await client.get("/components", params={"name": component})  # expect: ssrf
    return resp.json()
