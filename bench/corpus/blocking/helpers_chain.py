"""FastAPI service whose async handlers call the module's own sync helpers (some of which block)."""

import asyncio
import functools
import json
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import requests
import yaml
from fastapi import FastAPI

app = FastAPI()
TEMPLATES = Path("/srv/templates")
RATES_URL = "https://rates.internal/v1/latest"


def get_secret(name: str) -> str:
    client = boto3.client("secretsmanager")
    return client.get_secret_value(SecretId=name)["SecretString"]


def fetch_rates() -> dict:
    return requests.get(RATES_URL, timeout=5).json()


def fetch_rates_urllib() -> dict:
    with urllib.request.urlopen(RATES_URL, timeout=5) as resp:
        return json.load(resp)


def load_template(name: str) -> str:
    with open(TEMPLATES / f"{name}.html", encoding="utf-8") as fh:  # expect: path-traversal
        return fh.read()


def read_config() -> dict:
    return yaml.safe_load(Path("/etc/app/config.yaml").read_text())


def git_revision() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def wait_backoff(attempt: int) -> None:
    time.sleep(min(30, 2**attempt))


def upload_report(body: bytes) -> None:
    s3_client().put_object(Bucket="reports", Key="latest.pdf", Body=body)


def s3_client():
    return boto3.client("s3")


def render_price(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency.upper()}"


def normalise(name: str) -> str:
    return name.strip().lower().replace(" ", "-")


@functools.cache
def currency_symbols() -> dict[str, str]:
    return {"EUR": "€", "USD": "$", "GBP": "£"}


async def fetch_rates_async(client) -> dict:
    return (await client.get(RATES_URL)).json()


@app.get("/db-url")
async def db_url() -> dict[str, str]:
    password = get_secret("prod/db-password")  # expect: blocking-via-helper
    return {"url": f"postgresql://app:{password}@db/app"}


@app.get("/db-url/offloaded")
async def db_url_offloaded() -> dict[str, str]:
    password = await asyncio.to_thread(get_secret, "prod/db-password")  # ok: blocking-via-helper
    return {"url": f"postgresql://app:{password}@db/app"}


@app.get("/prices")
async def prices(amount: float) -> dict[str, str]:
    rates = fetch_rates()  # expect: blocking-via-helper
    return {cur: render_price(amount * rate, cur) for cur, rate in rates.items()}  # ok: blocking-via-helper


@app.get("/prices/executor")
async def prices_executor(amount: float) -> dict[str, str]:
    rates = await asyncio.get_running_loop().run_in_executor(None, fetch_rates)  # ok: blocking-via-helper
    return {cur: render_price(amount * rate, cur) for cur, rate in rates.items()}


@app.get("/prices/async")
async def prices_async(amount: float) -> dict[str, str]:
    rates = await fetch_rates_async(app.state.http)  # ok: blocking-via-helper
    return {cur: render_price(amount * rate, cur) for cur, rate in rates.items()}


@app.get("/prices/legacy")
async def prices_legacy(amount: float) -> dict[str, float]:
    rates = fetch_rates_urllib()  # expect: blocking-via-helper
    return {cur: amount * rate for cur, rate in rates.items()}


@app.get("/pages/{name}")
async def page(name: str) -> str:
    template = load_template(normalise(name))  # expect: blocking-via-helper
    return template.replace("{{ symbols }}", json.dumps(currency_symbols()))  # ok: blocking-via-helper


@app.get("/pages/offloaded/{name}")
async def page_offloaded(name: str) -> str:
    return await asyncio.to_thread(load_template, normalise(name))  # ok: blocking-via-helper


@app.get("/config")
async def config() -> dict:
    return read_config()  # expect: blocking-via-helper


@app.get("/version")
async def version() -> dict[str, str]:
    return {"revision": git_revision()}  # expect: blocking-via-helper


@app.post("/reports")
async def post_report(body: bytes) -> dict[str, bool]:
    for attempt in range(3):
        try:
            upload_report(body)  # expect: blocking-via-helper
            return {"ok": True}
        except OSError:
            wait_backoff(attempt)  # expect: blocking-via-helper
    return {"ok": False}


@app.post("/reports/offloaded")
async def post_report_offloaded(body: bytes) -> dict[str, bool]:
    for attempt in range(3):
        try:
            await asyncio.to_thread(upload_report, body)  # ok: blocking-via-helper
            return {"ok": True}
        except OSError:
            await asyncio.sleep(min(30, 2**attempt))  # ok: blocking-sleep
    return {"ok": False}


def warm_caches() -> None:
    fetch_rates()
    load_template("index")
