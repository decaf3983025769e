"""A small FastAPI service: prediction routes, a health check and a per-user counter."""

from typing import Any

import httpx
import requests
from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Request

app = FastAPI()
router = APIRouter(prefix="/v1")

REQUEST_COUNTS: dict[str, int] = {}
MODEL_URL = "http://model-server:8080/predict"


def get_client(request: Request) -> httpx.AsyncClient:
    return request.app.state.http


@router.post("/predict")
async def predict(payload: dict[str, Any]) -> dict[str, Any]:
    resp = requests.post(MODEL_URL, json=payload)  # expect: blocking-io, no-timeout
    return resp.json()


@router.post("/predict-async")
async def predict_async(payload: dict[str, Any], client: httpx.AsyncClient = Depends(get_client)) -> dict[str, Any]:
    resp = await client.post(MODEL_URL, json=payload)
    resp.raise_for_status()
    return resp.json()


@router.get("/labels")
async def labels() -> list[str]:
    with open("labels.txt") as fh:  # expect: blocking-io
        return fh.read().splitlines()  # expect: blocking-io


@router.get("/count/{user}")
def count(user: str) -> dict[str, int]:
    REQUEST_COUNTS[user] = REQUEST_COUNTS.get(user, 0) + 1  # expect: shared-mutable-state
    return {"count": REQUEST_COUNTS[user]}


@router.get("/legacy")
def legacy_proxy(q: str) -> dict[str, Any]:
    return requests.get("https://legacy.internal/search", params={"q": q}, timeout=3).json()


def send_receipt(email: str) -> None:
    requests.post("https://mailer.internal/send", json={"to": email}, timeout=5)


@router.post("/orders")
async def create_order(order: dict[str, Any], background: BackgroundTasks) -> dict[str, str]:
    background.add_task(send_receipt, order["email"])
    return {"status": "accepted"}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


app.include_router(router)
