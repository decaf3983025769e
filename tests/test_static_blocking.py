"""ARCH115/ARCH118: blocking work reached through a same-module sync helper, reported at the call site."""

from __future__ import annotations

import pytest

from app.static.engine import ChangedPython, analyse

HELPERS = """import asyncio
import boto3
import requests
from fastapi import FastAPI

app = FastAPI()


def get_secret(name):
    client = boto3.client("secretsmanager")
    return client.get_secret_value(SecretId=name)["SecretString"]


def password():
    return get_secret("db")


def shape(x):
    return x.strip()


async def handler():
    return password()


async def offloaded():
    return await asyncio.to_thread(password)


async def harmless(x):
    return shape(x)


@app.get("/rates")
async def rates():
    return fetch()


def fetch():
    return requests.get("https://rates.internal", timeout=5).json()


class Service:
    def _load(self):
        return requests.get("https://cfg.internal", timeout=5).json()

    async def reload(self):
        self.cfg = self._load()
"""


def _lines(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), 1) if needle in line)


def _report(changed: set[int], path: str = "svc.py") -> list[tuple[str | None, int | None, str]]:
    report = analyse([ChangedPython(path, HELPERS, frozenset(changed))], run_ruff=False)
    return [(f.rule_id, f.line, f.rationale) for f in report.findings]


def test_chain_reported_at_the_call_site_with_the_chain() -> None:
    line = _lines(HELPERS, "    return password()")
    found = [f for f in _report({line}) if f[0] == "ARCH115"]
    assert [f[1] for f in found] == [line]
    assert "handler → password → get_secret → boto3 client.get_secret_value" in found[0][2]


def test_offloaded_and_harmless_helpers_are_silent() -> None:
    lines = {_lines(HELPERS, "asyncio.to_thread(password)"), _lines(HELPERS, "return shape(x)")}
    assert not [f for f in _report(lines) if f[0] in ("ARCH115", "ARCH118")]


def test_route_and_method_helpers() -> None:
    route, method = _lines(HELPERS, "return fetch()"), _lines(HELPERS, "self.cfg = self._load()")
    found = {(f[0], f[1]) for f in _report({route, method})}
    assert ("ARCH118", route) in found and ("ARCH115", method) in found


def test_change_in_the_helper_blocking_line_reports_the_unchanged_call_site() -> None:
    blocking = _lines(HELPERS, 'requests.get("https://rates.internal"')
    found = [f for f in _report({blocking}) if f[0] == "ARCH118"]
    assert len(found) == 1


def test_unrelated_change_reports_nothing() -> None:
    assert not [f for f in _report({_lines(HELPERS, "app = FastAPI()")}) if f[0] in ("ARCH115", "ARCH118")]


# --------------------------------------------------------------------------- direct calls (ARCH107-109)


def _blocking(source: str, path: str = "svc.py") -> list[tuple[str, int, str, str]]:
    """(rule, line, severity, rationale) of every blocking finding in ``source`` (every line changed)."""
    changed = frozenset(range(1, source.count("\n") + 2))
    report = analyse([ChangedPython(path, source, changed)], run_ruff=False)
    blocking = {"ARCH107", "ARCH108", "ARCH109", "ARCH115", "ARCH118"}
    return [
        (f.rule_id or "", f.line or 0, str(f.severity), f.rationale) for f in report.findings if f.rule_id in blocking
    ]


def _flagged_line(source: str) -> int:
    return _lines(source, "# <-")


KINDS = {
    "http": "import requests as r\nasync def f(u):\n    return r.post(u, timeout=3)  # <-\n",
    "urllib3 by signature": "async def f(pool, u):\n    r = pool.request('GET', u)  # <-\n    return r.data\n",
    "db": "import sqlite3\nDB = sqlite3.connect('app.db')\nasync def f(q):\n    return DB.execute(q)  # <-\n",
    "db by signature": "async def f(cur):\n    cur.execute('SELECT 1')  # <-\n",
    "orm": "from app.models import User\nasync def f(i):\n    return User.objects.get(pk=i)  # <-\n",
    "sdk": "import boto3\nS3 = boto3.client('s3')\nasync def f(k):\n"
    "    return S3.get_object(Bucket='b', Key=k)  # <-\n",
    "sdk by keywords": "async def f(s3, k):\n    head = s3.head_object(Bucket='b', Key=k)  # <-\n    return head\n",
    "gcp": "from google.cloud import storage\nasync def f(k):\n"
    "    return storage.Client().bucket('b').blob(k).download_as_bytes()  # <-\n",
    "network": "import socket\nasync def f(h):\n    return socket.gethostbyname(h)  # <-\n",
    "subprocess": "from subprocess import check_output\nasync def f():\n    return check_output(['ls'])  # <-\n",
    "popen wait": "import subprocess\nasync def f(p: subprocess.Popen):\n    return p.wait()  # <-\n",
    "file": "async def f(p):\n    return open(p).read()  # <-\n",
    "file object": "import io\nasync def f(fh: io.TextIOWrapper):\n    return fh.readline()  # <-\n",
    "path": "from pathlib import Path\nBASE = Path('/srv')\nasync def f(n):\n"
    "    return (BASE / n).read_bytes()  # <-\n",
    "os.path": "import os\nasync def f(p):\n    return os.path.exists(p)  # <-\n",
    "load": "import pandas as pd\nasync def f(p):\n    return pd.read_csv(p)  # <-\n",
    "model": "from transformers import AutoModel\nasync def f(n):\n    return AutoModel.from_pretrained(n)  # <-\n",
    "event": "import threading\nREADY = threading.Event()\nasync def f():\n    READY.wait(5)  # <-\n",
    "queue": "import queue\nJOBS = queue.Queue()\nasync def f():\n    return JOBS.get()  # <-\n",
    "future": "from concurrent.futures import ThreadPoolExecutor\nPOOL = ThreadPoolExecutor()\n"
    "async def f(g):\n    return POOL.submit(g).result()  # <-\n",
    "semaphore": "import threading\nSLOTS = threading.Semaphore(2)\nasync def f(g):\n"
    "    with SLOTS:  # <-\n        g()\n",
    "hashing": "import bcrypt\nasync def f(pw, h):\n    return bcrypt.checkpw(pw, h)  # <-\n",
    "input": "async def f():\n    return input('> ')  # <-\n",
    "inference": "import torch\nasync def f(m, x):\n    with torch.no_grad():\n        return m(x)  # <-\n",
}


@pytest.mark.parametrize("source", list(KINDS.values()), ids=list(KINDS))
def test_each_kind_of_blocking_call_is_reported_on_its_line(source: str) -> None:
    found = [(rule, line) for rule, line, _, _ in _blocking(source)]
    assert found == [("ARCH108", _flagged_line(source))]


def test_the_finding_says_which_kind_of_blocking_it_is() -> None:
    details = {name: _blocking(source)[0][3].split(". ")[0] for name, source in KINDS.items()}
    assert "`requests.post()` is a synchronous HTTP call" in details["http"]  # the alias resolved
    assert "is a blocking wait on a threading event (`READY` is a `threading.Event`)" in details["event"]
    assert "is a blocking semaphore acquisition" in details["semaphore"]
    assert "looks like a synchronous `boto3` call" in details["sdk by keywords"]


def test_severity_follows_the_kind() -> None:
    network = _blocking(KINDS["http"])[0][2]
    file_io = _blocking(KINDS["file"])[0][2]
    metadata = _blocking(KINDS["os.path"])[0][2]
    assert (network, file_io, metadata) == ("medium", "low", "low")
    route = "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/')\nasync def f(p):\n    return open(p).read()\n"
    assert [(r, s) for r, _, s, _ in _blocking(route)] == [("ARCH109", "medium")]


TRACKED = {
    "module session": "import requests\nS = requests.Session()\nasync def f(u):\n"
    "    return S.get(u, timeout=2)  # <-\n",
    "with client": "import httpx\nasync def f(u):\n    with httpx.Client() as c:\n        return c.get(u)  # <-\n",
    "annotated parameter": "from sqlalchemy.orm import Session\nasync def f(db: Session, q):\n"
    "    return db.execute(q)  # <-\n",
    "optional annotation": "from typing import Optional\nimport redis\nasync def f(r: Optional[redis.Redis], k):\n"
    "    return r.get(k)  # <-\n",
    "self attribute": "import redis\nclass C:\n    def __init__(self):\n        self.r = redis.Redis()\n"
    "    async def f(self, k):\n        return self.r.get(k)  # <-\n",
    "class attribute": "import threading\nclass C:\n    ready = threading.Event()\n"
    "    async def f(self):\n        self.ready.wait()  # <-\n",
    "factory function": "import boto3\ndef s3():\n    return boto3.client('s3')\nasync def f(k):\n"
    "    return s3().delete_object(Bucket='b', Key=k)  # <-\n",
    "derived cursor": "import psycopg2\nasync def f(dsn):\n    conn = psycopg2.connect(dsn)  # <-\n"
    "    cur = conn.cursor()\n    cur.execute('x')\n",
    "mongo collection": "from pymongo import MongoClient\nUSERS = MongoClient()['app'].users\n"
    "async def f(q):\n    return USERS.find_one(q)  # <-\n",
    "boto3 session": "import boto3\nclass C:\n    def __init__(self):\n        self.s = boto3.Session()\n"
    "    async def f(self):\n        return self.s.client('sqs').receive_message(QueueUrl='q')  # <-\n",
}


@pytest.mark.parametrize("source", list(TRACKED.values()), ids=list(TRACKED))
def test_tracked_objects_are_followed_through_assignments_annotations_and_self(source: str) -> None:
    found = [(rule, line) for rule, line, _, _ in _blocking(source)]
    assert ("ARCH108", _flagged_line(source)) in found


SILENT = {
    "awaited async client": "import httpx\nasync def f(c: httpx.AsyncClient, u):\n    return await c.get(u)\n",
    "un-awaited async client": "import httpx\nasync def f(u):\n    c = httpx.AsyncClient()\n"
    "    return c.request('GET', u)\n",
    "aiohttp async with": "async def f(session, u):\n    async with session.request('GET', u) as r:\n"
    "        return await r.text()\n",
    "coroutines for gather": "import asyncio\nasync def f(c, us):\n"
    "    return await asyncio.gather(*[c.request('GET', u) for u in us], return_exceptions=True)\n",
    "redis.asyncio": "import redis.asyncio as aioredis\nR = aioredis.Redis()\nasync def f(k):\n"
    "    return await R.get(k)\n",
    "async cursor": "async def f(conn):\n    async with conn.cursor() as cur:\n        await cur.execute('SELECT 1')\n",
    "aiofiles": "import aiofiles\nasync def f(p):\n    async with aiofiles.open(p) as fh:\n"
    "        return await fh.read()\n",
    "anyio path": "import anyio\nasync def f(p):\n    return await anyio.Path(p).read_text()\n",
    "subprocess exec": "import asyncio\nasync def f():\n    p = await asyncio.create_subprocess_exec('ls')\n"
    "    return await p.wait()\n",
    "django async orm": "from app.models import User\nasync def f(i):\n    return await User.objects.aget(pk=i)\n",
    "lazy queryset": "from app.models import User\nasync def f():\n    return User.objects.filter(active=True)\n",
    "in-memory zip": "import io, zipfile\nasync def f(b):\n    return zipfile.ZipFile(io.BytesIO(b)).namelist()\n",
    "presigned url": "import boto3\nS3 = boto3.client('s3')\nasync def f(k):\n"
    "    return S3.generate_presigned_url('get_object', Params={'Key': k})\n",
    "path arithmetic": "from pathlib import Path\nimport os\nasync def f(p, b):\n"
    "    return Path(p).resolve(), os.path.join(b, p), os.path.normpath(p), Path(p).with_suffix('.x')\n",
    "sleep zero": "import time\nasync def f():\n    time.sleep(0)\n",
    "non-blocking waits": "import queue, threading\nQ = queue.Queue()\nE = threading.Event()\n"
    "L = threading.Lock()\nasync def f():\n    Q.get(block=False)\n    Q.put(1)\n    E.wait(timeout=0)\n"
    "    L.acquire(blocking=False)\n",
    "lock for a counter": "import threading\nL = threading.Lock()\nN = [0]\nasync def f():\n    with L:\n"
    "        N[0] += 1\n",
    "sync function": "import requests\ndef f(u):\n    return requests.get(u, timeout=2)\n",
    "main guard": "import asyncio, time\nif __name__ == '__main__':\n    async def main():\n"
    "        time.sleep(1)\n    asyncio.run(main())\n",
    "lifespan": "from contextlib import asynccontextmanager\n@asynccontextmanager\nasync def lifespan(app):\n"
    "    app.state.cfg = open('cfg.json').read()\n    yield\n",
    "startup hook": "import requests\nfrom fastapi import FastAPI\napp = FastAPI()\n@app.on_event('startup')\n"
    "async def warm():\n    requests.get('https://x', timeout=2)\n",
    "script entry": "import asyncio, json\nasync def main():\n    cfg = json.load(open('cfg.json'))\n"
    "    await asyncio.sleep(cfg['delay'])\nasyncio.run(main())\n",
}


@pytest.mark.parametrize("source", list(SILENT.values()), ids=list(SILENT))
def test_async_variants_and_safe_uses_are_silent(source: str) -> None:
    assert _blocking(source) == []


OFFLOADED = {
    "to_thread": "import asyncio, requests\nasync def f(u):\n"
    "    return await asyncio.to_thread(requests.get, u, timeout=2)\n",
    "lambda": "import asyncio\nasync def f(p):\n    return await asyncio.to_thread(lambda: open(p).read())\n",
    "run_in_executor": "import asyncio, subprocess\nasync def f():\n"
    "    return await asyncio.get_running_loop().run_in_executor(None, subprocess.check_output, ['ls'])\n",
    "run_in_threadpool": "from fastapi.concurrency import run_in_threadpool\nimport bcrypt\nasync def f(p, h):\n"
    "    return await run_in_threadpool(bcrypt.checkpw, p, h)\n",
    "anyio": "import anyio, shutil\nasync def f(a, b):\n    await anyio.to_thread.run_sync(shutil.copy, a, b)\n",
    "sync_to_async": "from asgiref.sync import sync_to_async\nfrom app.models import User\nasync def f(i):\n"
    "    return await sync_to_async(User.objects.get)(pk=i)\n",
    "nested def not called": "import time\nasync def f():\n    def later():\n        time.sleep(1)\n    return later\n",
    "helper offloaded": "import asyncio, time\ndef nap():\n    time.sleep(1)\nasync def f():\n"
    "    await asyncio.to_thread(nap)\n",
}


@pytest.mark.parametrize("source", list(OFFLOADED.values()), ids=list(OFFLOADED))
def test_offloaded_calls_are_silent(source: str) -> None:
    assert _blocking(source) == []


CHAINS = """import threading
import requests

LOCK = threading.Lock()


class Base:
    def _fetch(self, url):
        return requests.get(url, timeout=5).json()


class Service(Base):
    def __init__(self):
        self.cfg = {}

    def _load(self):
        return self._parse(open("cfg.json").read())

    def _parse(self, text):
        return text.strip()

    def _refresh(self, url):
        return self._fetch(url)

    def _count(self):
        with LOCK:
            self.cfg["n"] = self.cfg.get("n", 0) + 1

    async def reload(self):
        self.cfg = self._load()

    async def refresh(self, url):
        return self._refresh(url)

    async def count(self):
        self._count()


SERVICE = Service()


async def handler():
    return SERVICE._load()
"""


def test_chains_go_through_self_methods_base_classes_and_module_instances() -> None:
    found = {(rule, line): text for rule, line, _, text in _blocking(CHAINS)}
    assert "reload → _load → `open`" in found["ARCH115", _lines(CHAINS, "self.cfg = self._load()")]
    assert "refresh → _refresh → _fetch → `requests.get`" in found["ARCH115", _lines(CHAINS, "return self._refresh")]
    assert "handler → _load → `open`" in found["ARCH115", _lines(CHAINS, "return SERVICE._load()")]
    assert ("ARCH115", _lines(CHAINS, "        self._count()")) not in found  # a lock around a counter


def test_a_lock_held_around_blocking_work_elsewhere_is_reported_where_a_coroutine_waits_for_it() -> None:
    source = (
        "import threading, requests\nL = threading.Lock()\nCACHE = {}\n"
        "def refill():\n    with L:\n        CACHE['x'] = requests.get('https://x', timeout=5).json()\n"
        "async def read():\n    with L:\n        return CACHE.get('x')\n"
    )
    waits = source.split("\n").index("async def read():") + 2
    assert [(r, line) for r, line, _, _ in _blocking(source)] == [("ARCH108", waits)]


def test_ruff_blocking_codes_only_stand_in_where_the_own_checks_cannot_parse() -> None:
    parsed = "import time\nasync def f():\n    time.sleep(0)\n"
    newer = "import time\nasync def f[T](x: T) -> T:\n    time.sleep(1)\n    return x\n"
    report = analyse([ChangedPython("a.py", parsed, frozenset({3})), ChangedPython("b.py", newer, frozenset({3}))])
    assert {(f.path, f.rule_id) for f in report.findings} == {("b.py", "ruff:ASYNC251")}


def test_catalogue_names_only_known_types_and_kinds() -> None:
    from app.static import blocking_names as cat

    types = set(cat.TYPES)
    refs = [*cat.CLASSES.values(), *cat.FACTORIES.values(), *cat.SIZED_VARIANTS.values()]
    refs += [pattern[2] for pattern in cat.CLIENT_PATTERNS]
    for spec in cat.TYPES.values():
        assert spec.kind in cat.KINDS, spec.name
        refs += [*spec.returns.values(), *spec.attrs.values(), *filter(None, (spec.any_attr, spec.subscript))]
    assert set(refs) <= types, sorted(set(refs) - types)
    assert set(cat.FUNCTIONS.values()) <= set(cat.KINDS)


def test_urllib3_pool_methods_match_by_signature_and_file_objects_close() -> None:
    source = (
        "async def f(pool, m, u, fh):\n"
        "    r = pool.urlopen(m, u)\n"
        "    s = pool.request(m, u)\n"
        "    with open(u, 'w') as out:\n"
        "        out.close()\n"
    )
    found = sorted(line for _, line, _, _ in _blocking(source))
    assert found == [2, 4, 5]  # `request(m, u)` with a variable method may be anything's
