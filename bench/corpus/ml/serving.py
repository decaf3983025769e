"""Model server: loads checkpoints and tokenizers by name, scores text, exports results (FastAPI)."""

import asyncio
import logging
import re
from pathlib import Path

import torch
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from transformers import AutoModelForSequenceClassification, AutoTokenizer

log = logging.getLogger("serving")
app = FastAPI()
CHECKPOINTS = Path("/srv/checkpoints").resolve()
KNOWN_MODELS = {"sentiment": "acme/sentiment-base", "toxicity": "acme/toxicity-small"}
MODELS: dict[str, torch.nn.Module] = {}


class ScoreRequest(BaseModel):
    model: str
    text: str
    stop: str | None = None


@app.post("/models/{name}/load")
async def load_checkpoint(name: str) -> dict[str, str]:
    state = await asyncio.to_thread(torch.load, CHECKPOINTS / f"{name}.pt", weights_only=False)  # expect: path-traversal, unsafe-deserialization
    return {"keys": str(len(state))}


@app.post("/models/{name}/load-safe")
async def load_checkpoint_safe(name: str) -> dict[str, str]:
    path = (CHECKPOINTS / f"{name}.pt").resolve()
    if not path.is_relative_to(CHECKPOINTS):
        raise HTTPException(404)
    state = await asyncio.to_thread(torch.load, path, weights_only=True)  # ok: path-traversal, unsafe-deserialization
    return {"keys": str(len(state))}


@app.post("/hub/{repo_id:path}")
async def load_from_hub(repo_id: str) -> dict[str, str]:
    model = await asyncio.to_thread(AutoModelForSequenceClassification.from_pretrained, repo_id, trust_remote_code=True)  # expect: code-injection
    return {"labels": str(model.config.num_labels)}


@app.post("/hub/known/{name}")
async def load_known(name: str) -> dict[str, str]:
    if name not in KNOWN_MODELS:
        raise HTTPException(404)
    model = await asyncio.to_thread(AutoModelForSequenceClassification.from_pretrained, KNOWN_MODELS[name])  # ok: code-injection
    return {"labels": str(model.config.num_labels)}


@app.post("/score")
async def score(req: ScoreRequest) -> dict[str, float]:
    log.info(f"scoring with {req.model}: {req.text[:80]}")  # expect: log-injection
    tokenizer = AutoTokenizer.from_pretrained(KNOWN_MODELS.get(req.model, "acme/sentiment-base"))  # expect: blocking-io
    inputs = tokenizer(req.text, return_tensors="pt")
    with torch.no_grad():
        logits = MODELS[req.model](**inputs).logits  # expect: blocking-io
    return {"score": float(logits.softmax(-1)[0, 1])}


@app.post("/score/offloaded")
async def score_offloaded(req: ScoreRequest) -> dict[str, float]:
    log.info("scoring with %r (%d chars)", req.model, len(req.text))  # ok: log-injection
    if req.model not in MODELS:
        raise HTTPException(404)
    logits = await asyncio.to_thread(lambda: MODELS[req.model](**req.text).logits)  # ok: blocking-io
    return {"score": float(logits.softmax(-1)[0, 1])}


@app.post("/generate/stop")
async def generate_with_stop(req: ScoreRequest) -> dict[str, str]:
    text = req.text
    if req.stop:
        text = re.split(req.stop, text)[0]  # expect: redos
    return {"text": text}


@app.post("/generate/stop-literal")
async def generate_with_stop_literal(req: ScoreRequest) -> dict[str, str]:
    text = req.text
    if req.stop:
        text = re.split(re.escape(req.stop), text)[0]  # ok: redos
    return {"text": text}


@app.post("/exports/{run}")
def export_run(run: str, rows: list[dict]) -> dict[str, str]:
    target = Path("/srv/exports") / run / "scores.jsonl"  # near: path-traversal
    target.write_text("\n".join(map(str, rows)))  # expect: path-traversal
    return {"path": str(target)}


@app.post("/exports/by-id/{run_id}")
def export_run_by_id(run_id: int, rows: list[dict]) -> dict[str, str]:
    target = Path("/srv/exports") / f"run-{run_id}" / "scores.jsonl"
    target.write_text("\n".join(map(str, rows)))  # ok: path-traversal
    return {"path": str(target)}
