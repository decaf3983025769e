"""Slow and oversized clients against a real ``archbot serve`` (its uvicorn limits and the body deadline):
200 connections trickling a body at one byte a second do not starve real deliveries and are cut off with
408 at the deadline; a 30 MB body gets 413 with or without ``Content-Length``, after at most the 25 MiB cap
is read; a signed 24.9 MB payload is accepted."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from app.settings import MAX_WEBHOOK_BYTES
from app.webhooks import BodyTooLarge, read_capped
from tests.fakegithub import FakeGitHub, app_private_key, serve_fake
from tests.serve_process import Serve, serve_env
from tests.webhook_helpers import load_payload, signed_headers

pytestmark = pytest.mark.slow

SLOW_CLIENTS = 200
BODY_TIMEOUT = 4.0  # ARCHBOT_BODY_TIMEOUT for the run (default 10)
CHUNK = 64 * 1024
THIRTY_MB = 30 * 1000 * 1000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    workdir = tmp_path_factory.mktemp("slow")
    key = app_private_key()
    fake = FakeGitHub(app_id=4242, slug="archbot", private_key=key)
    with serve_fake(fake) as github_url:
        env = serve_env(app_id=4242, private_key=key, github_url=github_url, db=workdir / "archbot.db", model_url=None)
        env["ARCHBOT_BODY_TIMEOUT"] = str(BODY_TIMEOUT)
        serve = Serve(env, workdir)
        try:
            serve.wait_healthy()
            yield serve
        finally:
            assert serve.stop() == 0, serve.stderr()[-3000:]
    assert not [line for line in serve.stderr().splitlines() if line.startswith("Traceback")]  # none unhandled


def _pr_body(number: int, pad: int = 0) -> bytes:
    payload = load_payload("pull_request", "opened.payload.json")
    payload["number"] = number
    payload["pull_request"]["number"] = number
    payload["pull_request"]["head"]["sha"] = f"{number:040x}"
    if pad:
        payload["pull_request"]["body"] = "x" * pad
    return json.dumps(payload).encode()


async def _status(reader: asyncio.StreamReader) -> int:
    line = await reader.readline()
    return int(line.split(b" ", 2)[1]) if line.startswith(b"HTTP/1.1 ") else 0


@contextlib.asynccontextmanager
async def slow_posts(port: int, count: int) -> AsyncIterator[list[asyncio.Task[int]]]:
    """``count`` connections that declare a 1 KB body and send one byte a second; each task ends with the
    status the server answered (0: the connection closed without one)."""

    async def one() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"X-GitHub-Event: ping\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: 1000\r\n\r\n"
        )
        answer = asyncio.create_task(_status(reader))
        try:
            while not answer.done():
                with contextlib.suppress(OSError):
                    writer.write(b" ")
                    await writer.drain()
                await asyncio.wait([answer], timeout=1.0)
            return answer.result()
        except (OSError, ValueError, IndexError):
            return 0
        finally:
            writer.close()

    tasks = [asyncio.create_task(one()) for _ in range(count)]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_slow_posts_do_not_starve_deliveries_and_are_cut_at_the_deadline(server: Serve) -> None:
    async with slow_posts(server.port, SLOW_CLIENTS) as slow:
        await asyncio.sleep(1.0)  # all of them connected and trickling
        assert not any(task.done() for task in slow)
        latencies: list[float] = []
        async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as client:
            for number in range(1, 21):
                body = _pr_body(1000 + number)
                started = time.monotonic()
                r = await client.post("/webhook", content=body, headers=signed_headers(body, "pull_request"))
                latencies.append(time.monotonic() - started)
                assert r.status_code == 202, r.text
        assert max(latencies) < 2.0, f"deliveries waited behind slow clients: max {max(latencies):.2f} s"
        done, _ = await asyncio.wait(slow, timeout=BODY_TIMEOUT + 10.0)
        statuses = [task.result() for task in done]
        assert len(statuses) == SLOW_CLIENTS and set(statuses) == {408}, sorted(set(statuses))


async def _send_huge(port: int, *, chunked: bool) -> tuple[int, int]:
    """Send a 30 MB body (declared or chunked) until the server answers; (status, bytes sent by then)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = b"Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {THIRTY_MB}\r\n".encode()
    writer.write(
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: ping\r\n"
        b"X-Hub-Signature-256: sha256=00\r\n" + framing + b"\r\n"
    )
    answer = asyncio.create_task(_status(reader))
    sent = 0
    chunk = b"x" * CHUNK
    frame = f"{CHUNK:x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk
    try:
        while sent < THIRTY_MB and not answer.done():
            writer.write(frame)
            await writer.drain()
            sent += CHUNK
            await asyncio.sleep(0)
    except OSError:
        pass  # the server closed the connection after its 413
    try:
        async with asyncio.timeout(10.0):
            status = await answer
    finally:
        writer.close()
    return status, sent


async def test_thirty_megabytes_get_413_with_and_without_content_length(server: Serve) -> None:
    status, sent = await _send_huge(server.port, chunked=False)
    assert status == 413
    assert sent <= 16 * 1024 * 1024  # refused on the declared length: the server read nothing of it
    status, sent = await _send_huge(server.port, chunked=True)
    assert status == 413
    # what the server read is at most the cap plus one chunk (test_read_capped_stops_at_the_cap); the
    # client may have pushed a few MB more into the loopback socket buffers by the time the answer came
    assert sent <= MAX_WEBHOOK_BYTES + 16 * 1024 * 1024


async def test_signed_payload_just_under_the_cap_is_accepted(server: Serve) -> None:
    body = _pr_body(4242, pad=24_900_000 - len(_pr_body(4242)))
    assert 24_800_000 < len(body) <= 24_900_000
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as client:
        r = await client.post("/webhook", content=body, headers=signed_headers(body, "pull_request"))
    assert r.status_code == 202 and r.json() == {"ok": True, "jobs": 1}


async def test_read_capped_stops_at_the_cap() -> None:
    consumed = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal consumed
        for _ in range(THIRTY_MB // CHUNK + 1):
            consumed += CHUNK
            yield b"x" * CHUNK

    with pytest.raises(BodyTooLarge):
        await read_capped(stream(), None, MAX_WEBHOOK_BYTES)
    assert MAX_WEBHOOK_BYTES < consumed <= MAX_WEBHOOK_BYTES + CHUNK
    consumed = 0
    with pytest.raises(BodyTooLarge):
        await read_capped(stream(), str(THIRTY_MB), MAX_WEBHOOK_BYTES)
    assert consumed == 0
