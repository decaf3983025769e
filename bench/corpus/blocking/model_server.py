"""A Starlette model server and a Django async view: weights, datasets and cloud storage on the event loop.

Loading belongs in the lifespan (before requests arrive) or in a worker thread; the blocking variants
load per request, run the forward pass on the loop, or read buckets with synchronous SDK clients.
"""

import asyncio
import json
import threading
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import boto3
import numpy as np
import pandas as pd
import torch
from django.http import JsonResponse
from google.cloud import storage
from huggingface_hub import hf_hub_download
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

from catalog.models import Product

WEIGHTS = Path("/srv/models")
GCS = storage.Client()
S3 = boto3.resource("s3")


class Classifier:
    """One model per process; reloads swap the weights under a lock the request path also takes."""

    def __init__(self) -> None:
        self.model = None
        self.tokenizer = None
        self._swap = threading.Lock()
        self._served = threading.Lock()
        self.requests = 0

    def reload(self, name: str) -> None:
        with self._swap:
            self.model = torch.load(WEIGHTS / f"{name}.pt", weights_only=True)

    async def predict(self, text: str) -> list[float]:
        with self._served:  # ok: blocking-lock
            self.requests += 1
        with self._swap:  # expect: blocking-lock
            model = self.model
        batch = self.tokenizer(text, return_tensors="pt")
        with torch.inference_mode():
            logits = model(**batch).logits  # expect: blocking-io
        return logits.softmax(-1)[0].tolist()

    def _forward(self, text: str) -> list[float]:
        with torch.inference_mode():
            return self.model(**self.tokenizer(text, return_tensors="pt")).logits.softmax(-1)[0].tolist()

    async def predict_offloaded(self, text: str) -> list[float]:
        return await asyncio.to_thread(self._forward, text)  # ok: blocking-io


CLASSIFIER = Classifier()


@asynccontextmanager
async def lifespan(app: Starlette):
    CLASSIFIER.tokenizer = AutoTokenizer.from_pretrained("acme/sentiment-base")  # ok: blocking-io
    CLASSIFIER.reload("sentiment")  # ok: blocking-via-helper
    yield


async def load(request: Request) -> JSONResponse:
    name = request.path_params["name"]
    state = torch.load(WEIGHTS / f"{name}.pt", weights_only=True)  # expect: blocking-io, path-traversal
    return JSONResponse({"tensors": len(state)})


async def load_offloaded(request: Request) -> JSONResponse:
    name = request.path_params["name"]
    state = await asyncio.to_thread(torch.load, WEIGHTS / f"{name}.pt", weights_only=True)  # ok: blocking-io  # expect: path-traversal
    return JSONResponse({"tensors": len(state)})


async def from_hub(request: Request) -> JSONResponse:
    model = AutoModelForSequenceClassification.from_pretrained("acme/toxicity-small")  # expect: blocking-io
    return JSONResponse({"labels": model.config.num_labels})


async def from_hub_offloaded(request: Request) -> JSONResponse:
    model = await asyncio.to_thread(AutoModelForSequenceClassification.from_pretrained, "acme/toxicity-small")  # ok: blocking-io
    return JSONResponse({"labels": model.config.num_labels})


async def zero_shot(request: Request) -> JSONResponse:
    classify = pipeline("zero-shot-classification", model="acme/nli-small")  # expect: blocking-io
    return JSONResponse(classify((await request.json())["text"], candidate_labels=["billing", "bug"]))


async def reload(request: Request) -> JSONResponse:
    CLASSIFIER.reload(request.path_params["name"])  # expect: blocking-via-helper
    return JSONResponse({"reloaded": True})


async def reload_offloaded(request: Request) -> JSONResponse:
    await asyncio.to_thread(CLASSIFIER.reload, request.path_params["name"])  # ok: blocking-via-helper
    return JSONResponse({"reloaded": True})


async def vocab(request: Request) -> JSONResponse:
    path = hf_hub_download("acme/sentiment-base", "vocab.json")  # expect: blocking-io
    return JSONResponse({"path": path})


async def embeddings(request: Request) -> JSONResponse:
    matrix = np.load(WEIGHTS / "embeddings.npy")  # expect: blocking-io
    return JSONResponse({"shape": list(matrix.shape)})


async def features(request: Request) -> JSONResponse:
    frame = pd.read_parquet(f"/srv/features/{int(request.path_params['day'])}.parquet")  # expect: blocking-io
    return JSONResponse({"rows": len(frame)})


async def features_offloaded(request: Request) -> JSONResponse:
    frame = await asyncio.to_thread(pd.read_parquet, f"/srv/features/{int(request.path_params['day'])}.parquet")  # ok: blocking-io
    return JSONResponse({"rows": len(frame)})


async def labels(request: Request) -> JSONResponse:
    return JSONResponse(json.load(open(WEIGHTS / "labels.json", encoding="utf-8")))  # expect: blocking-io


async def labels_async(request: Request) -> JSONResponse:
    return JSONResponse(json.loads(await anyio.Path(WEIGHTS / "labels.json").read_text()))  # ok: blocking-io


async def has_model(request: Request) -> JSONResponse:
    exists = (WEIGHTS / f"{request.path_params['name']}.pt").is_file()  # expect: blocking-io
    return JSONResponse({"exists": exists})


async def has_model_async(request: Request) -> JSONResponse:
    exists = await anyio.Path(WEIGHTS / f"{request.path_params['name']}.pt").is_file()  # ok: blocking-io
    return JSONResponse({"exists": exists})


async def gcs_blob(request: Request) -> JSONResponse:
    blob = GCS.bucket("model-artifacts").blob(request.path_params["key"])  # ok: blocking-io
    data = blob.download_as_bytes()  # expect: blocking-io
    return JSONResponse({"size": len(data)})


async def s3_artifact(request: Request) -> JSONResponse:
    bucket = S3.Bucket("model-artifacts")  # ok: blocking-io
    bucket.download_file(request.path_params["key"], "/srv/cache/artifact.bin")  # expect: blocking-io
    return JSONResponse({"cached": True})


async def product_view(request, product_id: int) -> JsonResponse:
    product = Product.objects.select_related("brand").get(pk=product_id)  # expect: blocking-io
    return JsonResponse({"name": product.name, "brand": product.brand.name})


async def product_view_async(request, product_id: int) -> JsonResponse:
    product = await Product.objects.select_related("brand").aget(pk=product_id)  # ok: blocking-io
    in_stock = Product.objects.filter(brand=product.brand, stock__gt=0)  # ok: blocking-io
    return JsonResponse({"name": product.name, "others": await in_stock.acount()})


app = Starlette(
    routes=[Route("/load/{name}", load), Route("/hub", from_hub), Route("/vocab", vocab)],
    lifespan=lifespan,
)
