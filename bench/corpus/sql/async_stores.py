"""Async data access: FastAPI + SQLAlchemy text(), aiohttp + asyncpg, aiosqlite, pandas reports."""

import aiosqlite
import asyncpg
import pandas as pd
from aiohttp import web
from fastapi import Depends, FastAPI, HTTPException, Query
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import engine, get_session

app = FastAPI()
ORDERINGS = {"newest": "created_at DESC", "oldest": "created_at ASC"}


@app.get("/orders")
async def list_orders(status: str, session: AsyncSession = Depends(get_session)) -> list[dict]:
    result = await session.execute(text(f"SELECT id, total FROM orders WHERE status = '{status}'"))  # expect: sql-injection
    return [dict(row._mapping) for row in result]


@app.get("/orders/safe")
async def list_orders_safe(status: str, session: AsyncSession = Depends(get_session)) -> list[dict]:
    result = await session.execute(text("SELECT id, total FROM orders WHERE status = :status"), {"status": status})  # ok: sql-injection
    return [dict(row._mapping) for row in result]


@app.get("/orders/sorted")
async def sorted_orders(order: str = Query("newest"), session: AsyncSession = Depends(get_session)) -> list[dict]:
    if order not in ORDERINGS:
        raise HTTPException(400, "unknown ordering")
    result = await session.execute(text("SELECT id, total FROM orders ORDER BY " + ORDERINGS[order]))  # ok: sql-injection
    return [dict(row._mapping) for row in result]


@app.get("/orders/sorted-raw")
async def sorted_orders_raw(order: str, session: AsyncSession = Depends(get_session)) -> list[dict]:
    result = await session.execute(text("SELECT id, total FROM orders ORDER BY " + order))  # expect: sql-injection
    return [dict(row._mapping) for row in result]


async def customer_orders(request: web.Request) -> web.Response:
    pool: asyncpg.Pool = request.app["pool"]
    customer = request.match_info["customer"]
    rows = await pool.fetch(f"SELECT id, total FROM orders WHERE customer = '{customer}'")  # expect: sql-injection
    return web.json_response([dict(r) for r in rows])


async def customer_orders_safe(request: web.Request) -> web.Response:
    pool: asyncpg.Pool = request.app["pool"]
    customer = request.match_info["customer"]
    rows = await pool.fetch("SELECT id, total FROM orders WHERE customer = $1", customer)  # ok: sql-injection
    return web.json_response([dict(r) for r in rows])


async def orders_since(request: web.Request) -> web.Response:
    pool: asyncpg.Pool = request.app["pool"]
    since = request.query.get("since", "1970-01-01")
    where = "created_at >= '%s'" % since  # near: sql-injection
    rows = await pool.fetch("SELECT id FROM orders WHERE " + where)  # expect: sql-injection
    return web.json_response([r["id"] for r in rows])


async def tag_stats(request: web.Request) -> web.Response:
    tag = (await request.json())["tag"]
    async with aiosqlite.connect("/srv/data/stats.db") as db:
        cursor = await db.execute("SELECT count(*) FROM events WHERE tag = '%s'" % tag)  # expect: sql-injection
        (total,) = await cursor.fetchone()
    return web.json_response({"events": total})


async def tag_stats_safe(request: web.Request) -> web.Response:
    tag = (await request.json())["tag"]
    async with aiosqlite.connect("/srv/data/stats.db") as db:
        cursor = await db.execute("SELECT count(*) FROM events WHERE tag = ?", (tag,))  # ok: sql-injection
        (total,) = await cursor.fetchone()
    return web.json_response({"events": total})


@app.get("/reports/region")
def region_report(region: str) -> dict:
    frame = pd.read_sql(f"SELECT day, revenue FROM sales WHERE region = '{region}'", engine)  # expect: sql-injection
    return frame.to_dict(orient="list")


@app.get("/reports/region/safe")
def region_report_safe(region: str) -> dict:
    frame = pd.read_sql(text("SELECT day, revenue FROM sales WHERE region = :r"), engine, params={"r": region})  # ok: sql-injection
    return frame.to_dict(orient="list")


@app.get("/reports/top")
def top_report(n: int = 10) -> dict:
    frame = pd.read_sql(f"SELECT product, revenue FROM sales ORDER BY revenue DESC LIMIT {n}", engine)  # ok: sql-injection
    return frame.to_dict(orient="list")
