"""Media service: transcodes uploads with ffmpeg and probes remote streams (FastAPI + asyncio)."""

import asyncio
import shlex
import subprocess
import uuid
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, HTTPException, UploadFile
from pydantic import BaseModel

app = FastAPI()
UPLOADS = Path("/srv/media/uploads")
CODECS = {"h264": "libx264", "vp9": "libvpx-vp9"}


class ProbeRequest(BaseModel):
    url: str


@app.post("/transcode")
async def transcode(src: str, codec: str = "h264") -> dict[str, int]:
    proc = await asyncio.create_subprocess_shell(f"ffmpeg -i {src} -c:v {codec} out.mp4")  # expect: command-injection
    return {"status": await proc.wait()}


@app.post("/transcode/quoted")
async def transcode_quoted(src: str) -> dict[str, int]:
    proc = await asyncio.create_subprocess_shell(f"ffmpeg -i {shlex.quote(src)} out.mp4")  # ok: command-injection
    return {"status": await proc.wait()}


@app.post("/uploads")
async def upload(file: UploadFile, codec: Literal["h264", "vp9"] = "h264") -> dict[str, str]:
    target = UPLOADS / f"{uuid.uuid4()}.bin"
    target.write_bytes(await file.read())  # expect: blocking-io
    proc = await asyncio.create_subprocess_exec("ffmpeg", "-i", str(target), "-c:v", CODECS[codec], f"{target}.mp4")  # ok: command-injection
    await proc.wait()
    return {"id": target.stem}


@app.post("/probe")
async def probe(body: ProbeRequest) -> dict[str, str]:
    proc = await asyncio.create_subprocess_exec("ffprobe", "-v", "error", body.url, stdout=subprocess.PIPE)  # expect: command-injection
    out, _ = await proc.communicate()
    return {"info": out.decode()}


@app.post("/thumbnails")
async def thumbnail(file: UploadFile) -> dict[str, str]:
    done = await asyncio.to_thread(subprocess.run, ["convert", file.filename, "-resize", "128x128", "thumb.png"], check=True)  # expect: command-injection
    return {"status": str(done.returncode)}


@app.get("/jobs/{job_id}/status")
async def job_status(job_id: str) -> dict[str, str]:
    try:
        job = uuid.UUID(job_id)
    except ValueError as exc:
        raise HTTPException(404) from exc
    proc = await asyncio.create_subprocess_exec("systemctl", "status", f"transcode@{job}.service", stdout=subprocess.PIPE)  # ok: command-injection
    out, _ = await proc.communicate()
    return {"status": out.decode()}


@app.get("/codecs")
async def codecs() -> dict[str, str]:
    proc = await asyncio.create_subprocess_shell("ffmpeg -hide_banner -codecs", stdout=subprocess.PIPE)  # ok: command-injection
    out, _ = await proc.communicate()
    return {"codecs": out.decode()}
