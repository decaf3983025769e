"""Inference gateway helpers: async handlers that call out to storage, a feature store and tools."""

import asyncio
import json
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import aiofiles
import httpx
import psycopg2
import requests

FEATURE_DB = "/var/lib/features.db"


async def fetch_features(user_id: str) -> dict:
    conn = sqlite3.connect(FEATURE_DB)  # expect: blocking-io
    try:
        row = conn.execute("SELECT payload FROM features WHERE user_id = ?", (user_id,)).fetchone()  # expect: blocking-io
    finally:
        conn.close()
    return json.loads(row[0]) if row else {}


async def wait_for_model(ready_flag: Path) -> None:
    while not ready_flag.exists():  # expect: blocking-io
        time.sleep(0.5)  # expect: blocking-sleep


async def poll_with_backoff(client: httpx.AsyncClient, url: str) -> dict:
    for attempt in range(5):
        response = await client.get(url)
        if response.status_code == 200:
            return response.json()
        await asyncio.sleep(2**attempt)
    raise TimeoutError(url)


async def enrich(user_id: str) -> dict:
    resp = requests.get(f"https://profiles.internal/users/{user_id}", timeout=2)  # expect: blocking-io
    return resp.json()


async def write_audit(dsn: str, event: dict) -> None:
    conn = psycopg2.connect(dsn)  # expect: blocking-io
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO audit (body) VALUES (%s)", (json.dumps(event),))  # expect: blocking-io


async def render_report(job_id: str) -> bytes:
    subprocess.run(["wkhtmltopdf", f"/tmp/{job_id}.html", f"/tmp/{job_id}.pdf"], check=True)  # expect: blocking-io, insecure-temp
    async with aiofiles.open(f"/tmp/{job_id}.pdf", "rb") as fh:  # expect: insecure-temp
        return await fh.read()


async def load_prompt_template(name: str) -> str:
    return open(f"templates/{name}.txt").read()  # expect: blocking-io


async def load_labels(path: str) -> list[str]:
    text = Path(path).read_text()  # expect: blocking-io
    return text.splitlines()


async def archive_run(run_dir: str, dest: str) -> None:
    shutil.copytree(run_dir, dest)  # expect: blocking-io


async def fetch_features_off_loop(user_id: str) -> dict:
    def query() -> dict:
        conn = sqlite3.connect(FEATURE_DB)
        try:
            row = conn.execute("SELECT payload FROM features WHERE user_id = ?", (user_id,)).fetchone()
        finally:
            conn.close()
        return json.loads(row[0]) if row else {}

    return await asyncio.to_thread(query)


async def render_report_async(job_id: str) -> int:
    proc = await asyncio.create_subprocess_exec("wkhtmltopdf", f"{job_id}.html", f"{job_id}.pdf")
    return await proc.wait()


async def read_config(path: str) -> str:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, Path(path).read_text)


async def pause() -> None:
    await asyncio.sleep(0.1)


def sync_enrich(user_id: str) -> dict:
    time.sleep(0.01)
    return requests.get(f"https://profiles.internal/users/{user_id}", timeout=2).json()
