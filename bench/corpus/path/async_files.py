"""Report downloads and static assets: FastAPI/Starlette FileResponse, aiohttp, aiofiles."""

from pathlib import Path

import aiofiles
from aiohttp import web
from fastapi import FastAPI, HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse

app = FastAPI()
REPORTS = Path("/srv/reports").resolve()
ASSETS = Path("/srv/assets")
REPORT_FILES = {"daily": "daily.csv", "weekly": "weekly.csv"}


@app.get("/reports/{name}")
async def report(name: str) -> FileResponse:
    return FileResponse(f"/srv/reports/{name}")  # expect: path-traversal


@app.get("/reports/checked/{name}")
async def report_checked(name: str) -> FileResponse:
    path = (REPORTS / name).resolve()
    if not path.is_relative_to(REPORTS) or not path.is_file():  # expect: blocking-io
        raise HTTPException(404)
    return FileResponse(path)  # ok: path-traversal


@app.get("/reports/kind/{kind}")
async def report_by_kind(kind: str) -> FileResponse:
    if kind not in REPORT_FILES:
        raise HTTPException(404)
    return FileResponse(REPORTS / REPORT_FILES[kind])  # ok: path-traversal


@app.get("/notes")
async def note(path: str) -> dict[str, str]:
    return {"text": (Path("/srv/notes") / path).read_text()}  # expect: path-traversal, blocking-io


async def starlette_export(request: Request) -> FileResponse:
    return FileResponse(ASSETS / request.query_params["file"])  # expect: path-traversal


async def starlette_export_checked(request: Request) -> FileResponse:
    path = (ASSETS / request.query_params["file"]).resolve()
    if not path.is_relative_to(ASSETS.resolve()):
        return FileResponse(ASSETS / "404.html", status_code=404)
    return FileResponse(path)  # ok: path-traversal


async def aiohttp_asset(request: web.Request) -> web.FileResponse:
    return web.FileResponse(ASSETS / request.match_info["path"])  # expect: path-traversal


async def aiohttp_asset_checked(request: web.Request) -> web.FileResponse:
    path = (ASSETS / request.match_info["path"]).resolve()
    if not path.is_relative_to(ASSETS.resolve()):
        raise web.HTTPNotFound()
    return web.FileResponse(path)  # ok: path-traversal


async def aiohttp_log(request: web.Request) -> web.Response:
    name = request.query["name"]
    async with aiofiles.open(f"/var/log/app/{name}") as fh:  # expect: path-traversal
        return web.Response(text=await fh.read())


async def aiohttp_log_today(request: web.Request) -> web.Response:
    async with aiofiles.open("/var/log/app/today.log") as fh:  # ok: path-traversal
        return web.Response(text=await fh.read())


@app.put("/avatars/{user_id}")
async def put_avatar(user_id: int, body: bytes) -> dict[str, str]:
    async with aiofiles.open(f"/srv/avatars/{user_id}.png", "wb") as fh:  # ok: path-traversal
        await fh.write(body)
    return {"ok": "yes"}
