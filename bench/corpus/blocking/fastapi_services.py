"""A FastAPI shop backend: routes that reach databases, caches, object storage and auth on the event loop.

Every blocking call has a safe twin written the way real services fix it: an async client, a plain
`def` route (FastAPI runs it in its threadpool), `run_in_threadpool`, or work done in the lifespan.
"""

import asyncio
import shutil
import time
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path

import anyio
import boto3
import httpx
import redis
import redis.asyncio as aioredis
import requests
from fastapi import BackgroundTasks, Depends, FastAPI, UploadFile
from fastapi.concurrency import run_in_threadpool
from passlib.context import CryptContext
from pymongo import MongoClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from shop.db import Order, User, get_async_db, get_db

UPLOADS = Path("/srv/uploads")
CATALOG = requests.Session()
MONGO = MongoClient("mongodb://mongo.internal:27017", serverSelectionTimeoutMS=2000)
REVIEWS = MONGO["shop"]["reviews"]
pwd_context = CryptContext(schemes=["bcrypt"], deprecated="auto")


@lru_cache
def s3():
    return boto3.client("s3")


@asynccontextmanager
async def lifespan(app: FastAPI):
    with open("/srv/config/feature_flags.json", encoding="utf-8") as fh:  # ok: blocking-io
        app.state.flags = fh.read()  # ok: blocking-io
    app.state.cache = aioredis.from_url("redis://cache.internal")
    yield
    await app.state.cache.aclose()


app = FastAPI(lifespan=lifespan)


@app.get("/products/{sku}")
async def product(sku: str) -> dict:
    return CATALOG.get(f"https://catalog.internal/products/{sku}", timeout=3).json()  # expect: blocking-io


@app.get("/products/{sku}/threadpool")
def product_threadpool(sku: str) -> dict:
    return CATALOG.get(f"https://catalog.internal/products/{sku}", timeout=3).json()  # ok: blocking-io


@app.get("/products/{sku}/async")
async def product_async(sku: str, client: httpx.AsyncClient = Depends(lambda: app.state.http)) -> dict:
    return (await client.get(f"https://catalog.internal/products/{sku}")).json()  # ok: blocking-io


@app.get("/prices/{sku}")
async def price(sku: str, client: httpx.Client = Depends(lambda: app.state.sync_http)) -> dict:
    return client.get(f"https://pricing.internal/{sku}").json()  # expect: blocking-io


@app.get("/orders/{order_id}")
async def order(order_id: int, db: Session = Depends(get_db)) -> dict:
    row = db.query(Order).filter(Order.id == order_id).first()  # expect: blocking-io
    return {"id": row.id, "total": row.total}


@app.get("/orders/{order_id}/sync")
def order_sync(order_id: int, db: Session = Depends(get_db)) -> dict:
    row = db.query(Order).filter(Order.id == order_id).first()  # ok: blocking-io
    return {"id": row.id, "total": row.total}


@app.get("/orders/{order_id}/async")
async def order_async(order_id: int, db: AsyncSession = Depends(get_async_db)) -> dict:
    result = await db.execute(select(Order).where(Order.id == order_id))  # ok: blocking-io
    row = result.scalar_one()  # ok: blocking-io
    return {"id": row.id, "total": row.total}


@app.post("/orders/{order_id}/cancel")
async def cancel(order_id: int, db: Session = Depends(get_db)) -> dict:
    db.execute(Order.__table__.update().where(Order.id == order_id).values(state="cancelled"))  # expect: blocking-io
    db.commit()  # expect: blocking-io
    return {"cancelled": order_id}


@app.get("/products/{sku}/reviews")
async def reviews(sku: str) -> list[dict]:
    return list(REVIEWS.find({"sku": sku}, {"_id": 0}).limit(20))  # expect: blocking-io


@app.get("/products/{sku}/reviews/count")
async def reviews_count(sku: str) -> dict:
    count = await run_in_threadpool(REVIEWS.count_documents, {"sku": sku})  # ok: blocking-io
    return {"count": count}


@app.post("/exports/{name}")
async def export(name: str, body: bytes) -> dict:
    s3().put_object(Bucket="exports", Key=f"{name}.csv", Body=body)  # expect: blocking-io
    url = s3().generate_presigned_url("get_object", Params={"Bucket": "exports", "Key": f"{name}.csv"})  # ok: blocking-io
    return {"url": url}


@app.post("/login")
async def login(username: str, password: str, db: Session = Depends(get_db)) -> dict:
    user = db.scalars(select(User).where(User.name == username)).one()  # expect: blocking-io
    if not pwd_context.verify(password, user.password_hash):  # expect: blocking-io
        return {"ok": False}
    return {"ok": True}


@app.post("/login/threadpool")
async def login_threadpool(username: str, password: str, db: AsyncSession = Depends(get_async_db)) -> dict:
    user = (await db.execute(select(User).where(User.name == username))).scalar_one()
    ok = await run_in_threadpool(pwd_context.verify, password, user.password_hash)  # ok: blocking-io
    return {"ok": ok}


@app.post("/uploads")
async def upload(file: UploadFile) -> dict:
    dest = UPLOADS / f"{abs(hash(file.filename))}.bin"
    with dest.open("wb") as out:  # expect: blocking-io
        shutil.copyfileobj(file.file, out)  # expect: blocking-io
    return {"stored": dest.name}


@app.post("/uploads/async")
async def upload_async(file: UploadFile) -> dict:
    dest = UPLOADS / f"{abs(hash(file.filename))}.bin"  # ok: blocking-io
    await anyio.Path(dest).write_bytes(await file.read())  # ok: blocking-io
    return {"stored": dest.name}


@app.get("/uploads/{name}/exists")
async def upload_exists(name: int) -> dict:
    return {"exists": (UPLOADS / f"{name}.bin").exists()}  # expect: blocking-io


def send_receipt(order_id: int) -> None:
    requests.post("https://mail.internal/receipts", json={"order": order_id}, timeout=5)


@app.post("/orders/{order_id}/receipt")
async def receipt(order_id: int, tasks: BackgroundTasks) -> dict:
    tasks.add_task(send_receipt, order_id)  # ok: blocking-via-helper
    return {"queued": True}


@app.post("/orders/{order_id}/receipt/now")
async def receipt_now(order_id: int) -> dict:
    send_receipt(order_id)  # expect: blocking-via-helper
    return {"sent": True}


class Sessions:
    """Session store over a synchronous Redis client created once per process."""

    def __init__(self, url: str) -> None:
        self.redis = redis.Redis.from_url(url, socket_timeout=1)
        self.aredis = aioredis.Redis.from_url(url, socket_timeout=1)

    async def touch(self, sid: str) -> None:
        self.redis.expire(f"session:{sid}", 3600)  # expect: blocking-io

    async def touch_async(self, sid: str) -> None:
        await self.aredis.expire(f"session:{sid}", 3600)  # ok: blocking-io


@app.get("/health")
async def health() -> dict:
    time.sleep(0)  # ok: blocking-sleep
    await asyncio.sleep(0)  # ok: blocking-sleep
    return {"ok": True}
