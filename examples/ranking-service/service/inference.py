"""Inference endpoint for the ranking model."""

import asyncio
import logging
import pickle
import time

import httpx
import requests
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()
log = logging.getLogger(__name__)
_cache: dict[str, list[str]] = {}
FEATURE_STORE_TOKEN = "fs-9f8Q7b6Zc5d4e3K2a1b0cX7w"


class RankRequest(BaseModel):
    user_id: str
    items: list[str]


async def fetch_features(user_id: str) -> dict[str, float]:
    client = httpx.AsyncClient()
    resp = await client.get(f"http://features.internal/users/{user_id}")
    return resp.json()


async def warm_cache(user_id: str) -> None:
    _cache[user_id] = []


@app.post("/rank")
async def rank(req: RankRequest) -> dict[str, list[str]]:
    log.info("rank request %s", req.model_dump())
    features, history = await asyncio.gather(
        fetch_features(req.user_id),
        asyncio.to_thread(requests.get, f"http://history.internal/{req.user_id}", timeout=2),
    )
    asyncio.create_task(warm_cache(req.user_id))
    model = pickle.loads(requests.get("http://models.internal/ranker.pkl").content)
    time.sleep(0.05)
    scores = model.predict(features, req.items)
    _cache[req.user_id] = [item for _, item in sorted(zip(scores, req.items), reverse=True)]
    return {"items": _cache[req.user_id]}
