"""Model serving: load artefacts at startup, batch requests, expose predictions."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import joblib
import numpy as np
import torch
from fastapi import FastAPI
from pydantic import BaseModel

log = logging.getLogger(__name__)

MODELS: dict[str, Any] = {}
PREDICTION_LOG: list[dict] = []


class PredictRequest(BaseModel):
    model: str
    features: list[float]


def load_models(model_dir: str) -> None:
    MODELS["ranker"] = torch.load(f"{model_dir}/ranker.pt")  # expect: unsafe-deserialization
    MODELS["encoder"] = torch.load(f"{model_dir}/encoder.pt", weights_only=True)
    MODELS["calibrator"] = joblib.load(f"{model_dir}/calibrator.joblib")  # expect: unsafe-deserialization
    MODELS["centroids"] = np.load(f"{model_dir}/centroids.npy")
    MODELS["vocab"] = np.load(f"{model_dir}/vocab.npy", allow_pickle=True)  # expect: unsafe-deserialization


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await asyncio.to_thread(load_models, "/models")
    app.state.batcher = Batcher()
    app.state.batch_task = asyncio.create_task(app.state.batcher.run())
    yield
    app.state.batch_task.cancel()


app = FastAPI(lifespan=lifespan)


class Batcher:
    def __init__(self, max_batch: int = 32, max_wait: float = 0.01) -> None:
        self.queue: asyncio.Queue[tuple[list[float], asyncio.Future]] = asyncio.Queue(maxsize=1024)
        self.max_batch = max_batch
        self.max_wait = max_wait

    async def submit(self, features: list[float]) -> float:
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        await self.queue.put((features, fut))
        return await fut

    async def run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            with contextlib.suppress(asyncio.TimeoutError):
                async with asyncio.timeout(self.max_wait):
                    while len(batch) < self.max_batch:
                        batch.append(await self.queue.get())
            inputs = torch.tensor([features for features, _ in batch])
            scores = await asyncio.to_thread(self._score, inputs)
            for (_, fut), score in zip(batch, scores, strict=True):
                if not fut.done():
                    fut.set_result(float(score))

    def _score(self, inputs: Any) -> Any:
        with torch.no_grad():
            return MODELS["ranker"](inputs).squeeze(-1).tolist()


@app.post("/predict")
async def predict(req: PredictRequest) -> dict[str, float]:
    score = await app.state.batcher.submit(req.features)
    PREDICTION_LOG.append({"model": req.model, "score": score})  # expect: shared-mutable-state
    return {"score": score}


@app.post("/reload")
async def reload(model_dir: str) -> dict[str, str]:
    MODELS["ranker"] = torch.load(f"{model_dir}/ranker.pt", weights_only=True)  # expect: blocking-io, path-traversal
    return {"status": "reloaded"}
