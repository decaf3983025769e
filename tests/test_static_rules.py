"""archbot's own AST rules: each one fires on its pattern and stays quiet on the look-alike that is fine."""

from __future__ import annotations

import ast
import textwrap

import pytest

from app.review.models import Category, Severity
from app.static.checks import check_module
from app.static.engine import MODULE_CHECKS
from app.static.module_view import ModuleView
from app.static.rules import RULES, RULES_BY_ID


def hits(source: str) -> list[tuple[str, int]]:
    """(rule id, line) for every own-rule hit in ``source``."""
    text = textwrap.dedent(source)
    view = ModuleView(ast.parse(text), "service/module.py", text.split("\n"), frozenset())
    return sorted({(f.rule_id, f.line) for check in MODULE_CHECKS for f in check(view)})


def rule_ids(source: str) -> set[str]:
    return {rule for rule, _ in hits(source)}


POSITIVE: list[tuple[str, str, int]] = [
    # ARCH101 gather without return_exceptions
    ("ARCH101", "import asyncio\nasync def f(a, b):\n    await asyncio.gather(a(), b())\n", 3),
    ("ARCH101", "import asyncio\nasync def f(xs):\n    return await asyncio.gather(*xs)\n", 3),
    (
        "ARCH101",
        "from asyncio import gather\nasync def f(a, b):\n    await gather(a(), b(), return_exceptions=False)\n",
        3,
    ),
    # ARCH102 task not kept
    ("ARCH102", "import asyncio\nasync def f(c):\n    asyncio.create_task(c())\n", 3),
    ("ARCH102", "import asyncio\nasync def f(c):\n    asyncio.ensure_future(c())\n", 3),
    (
        "ARCH102",
        "import asyncio\nasync def f(c):\n    loop = asyncio.get_running_loop()\n    loop.create_task(c())\n",
        4,
    ),
    ("ARCH102", "import asyncio\nasync def f(c):\n    task = asyncio.create_task(c())\n    return 1\n", 3),
    # ARCH103 shared state
    ("ARCH103", "CACHE = {}\nasync def f(k, load):\n    CACHE[k] = await load(k)\n", 3),
    ("ARCH103", "SEEN = []\nasync def f(k, load):\n    await load(k)\n    SEEN.append(k)\n", 4),
    ("ARCH103", "COUNT = 0\nasync def f(load):\n    global COUNT\n    await load()\n    COUNT += 1\n", 5),
    (
        "ARCH103",
        "class S:\n    registry = {}\n    async def add(self, k, load):\n        self.registry[k] = await load()\n",
        4,
    ),
    (
        "ARCH103",
        "from fastapi import FastAPI\napp = FastAPI()\nHITS = {}\n@app.get('/x')\ndef r(k: str):\n"
        "    HITS[k] = HITS.get(k, 0) + 1\n",
        6,
    ),
    # ARCH104 client per call
    ("ARCH104", "import httpx\nasync def f(u):\n    c = httpx.AsyncClient()\n    return (await c.get(u)).json()\n", 3),
    ("ARCH104", "import httpx\nasync def f(u):\n    return await httpx.AsyncClient(timeout=3).get(u)\n", 3),
    (
        "ARCH104",
        "import aiohttp\nasync def f(u):\n    s = aiohttp.ClientSession(timeout=t)\n    r = await s.get(u)\n"
        "    return r.status\n",
        3,
    ),
    # ARCH105 timeouts
    ("ARCH105", "import aiohttp\nasync def f():\n    async with aiohttp.ClientSession() as s:\n        pass\n", 3),
    (
        "ARCH105",
        "import httpx\nasync def f(u):\n    async with httpx.AsyncClient(timeout=None) as c:\n        pass\n",
        3,
    ),
    ("ARCH105", "import requests\ndef f(u):\n    return requests.get(u)\n", 3),
    ("ARCH105", "import requests\ns = requests.Session()\ndef f(u):\n    return s.post(u, json={})\n", 4),
    ("ARCH105", "from urllib.request import urlopen\ndef f(u):\n    return urlopen(u).read()\n", 3),
    ("ARCH105", "import httpx\nT = httpx.Timeout(None)\n", 2),
    ("ARCH105", "async def f(self, u):\n    return await self._http.get(u, timeout=None)\n", 2),
    # ARCH106 await under threading lock
    (
        "ARCH106",
        "import threading\nL = threading.Lock()\nasync def f(x):\n    with L:\n        await x()\n",
        5,
    ),
    (
        "ARCH106",
        "import threading\nclass C:\n    def __init__(self):\n        self._lock = threading.RLock()\n"
        "    async def f(self, x):\n        with self._lock:\n            y = 1\n            await x(y)\n",
        8,
    ),
    # ARCH107 time.sleep
    ("ARCH107", "import time\nasync def f():\n    time.sleep(1)\n", 3),
    ("ARCH107", "from time import sleep\nasync def f():\n    sleep(0.5)\n", 3),
    # ARCH108 blocking I/O in async def
    ("ARCH108", "import requests as r\nasync def f(u):\n    return r.get(u, timeout=3)\n", 3),
    ("ARCH108", "import sqlite3\nasync def f(p):\n    return sqlite3.connect(p)\n", 3),
    ("ARCH108", "import psycopg2\nasync def f(dsn):\n    psycopg2.connect(dsn)\n", 3),
    ("ARCH108", "import subprocess\nasync def f(cmd):\n    subprocess.run(cmd, check=True)\n", 3),
    ("ARCH108", "async def f(p):\n    return open(p).read()\n", 2),
    ("ARCH108", "from pathlib import Path\nasync def f(p):\n    return Path(p).read_text()\n", 3),
    (
        "ARCH108",
        "import redis\nR = redis.Redis()\nasync def f(k):\n    return R.get(k)\n",
        4,
    ),
    (
        "ARCH108",
        "import sqlite3\nDB = sqlite3.connect('x')\nasync def f(q):\n    cur = DB.cursor()\n    cur.execute(q)\n",
        5,
    ),
    # ARCH109 FastAPI async route doing blocking I/O
    (
        "ARCH109",
        "import requests\nfrom fastapi import APIRouter\nrouter = APIRouter()\n@router.post('/p')\n"
        "async def p(u: str):\n    return requests.get(u, timeout=2).json()\n",
        6,
    ),
    (
        "ARCH109",
        "import time\nfrom fastapi import FastAPI\napp = FastAPI()\n@app.get('/')\nasync def root():\n"
        "    time.sleep(1)\n",
        6,
    ),
    # ARCH110 JWT
    ("ARCH110", "import jwt\ndef f(t):\n    return jwt.decode(t, options={'verify_signature': False})\n", 3),
    ("ARCH110", "import jwt\ndef f(t, k):\n    return jwt.decode(t, k, verify=False)\n", 3),
    ("ARCH110", "from jose import jwt\ndef f(t, k):\n    return jwt.decode(t, k, algorithms=['none', 'HS256'])\n", 3),
    # ARCH111 deserialization
    ("ARCH111", "import pickle\ndef f(b):\n    return pickle.loads(b)\n", 3),
    ("ARCH111", "import yaml\ndef f(s):\n    return yaml.load(s)\n", 3),
    ("ARCH111", "import yaml\ndef f(s):\n    return yaml.load(s, Loader=yaml.Loader)\n", 3),
    ("ARCH111", "import torch\ndef f(p):\n    return torch.load(p)\n", 3),
    ("ARCH111", "import numpy as np\ndef f(p):\n    return np.load(p, allow_pickle=True)\n", 3),
    ("ARCH111", "import joblib\nmodel = joblib.load('m.pkl')\n", 2),
    # ARCH113 TLS off
    ("ARCH113", "import httpx\nc = httpx.AsyncClient(verify=False, timeout=5)\n", 2),
    ("ARCH113", "import requests\ndef f(u):\n    return requests.get(u, verify=False, timeout=3)\n", 3),
    ("ARCH113", "async def f(session, u):\n    return await session.get(u, ssl=False)\n", 2),
    ("ARCH113", "import ssl\nctx = ssl.create_default_context()\nctx.check_hostname = False\n", 3),
    ("ARCH113", "import ssl\nctx = ssl.create_default_context()\nctx.verify_mode = ssl.CERT_NONE\n", 3),
    # ARCH114 swallowed cancellation
    ("ARCH114", "async def f(x):\n    try:\n        await x()\n    except BaseException:\n        pass\n", 4),
    ("ARCH114", "async def f(x, log):\n    try:\n        await x()\n    except:\n        log.warning('x')\n", 4),
    (
        "ARCH114",
        "async def f(x, log):\n    try:\n        await x()\n    except BaseException as exc:\n"
        "        log.warning('failed: %s', exc)\n",
        4,
    ),
    (
        "ARCH114",
        "import asyncio\nasync def f(x):\n    try:\n        await x()\n    except asyncio.CancelledError:\n"
        "        return None\n",
        5,
    ),
    (  # the handler that takes CancelledError first is the one reported, not the BaseException after it
        "ARCH114",
        "import asyncio\nasync def f(x, log):\n    try:\n        await x()\n    except asyncio.CancelledError:\n"
        "        ...\n    except BaseException:\n        log.exception('closing failed')\n",
        5,
    ),
    # ARCH140-ARCH144 (more cases: tests/test_static_families.py)
    ("ARCH140", "import random\ndef make_token():\n    return str(random.getrandbits(64))\n", 3),
    ("ARCH141", "DB_PASSWORD = 'hunter22'\n", 1),
    ("ARCH142", "import re\nWORDS = re.compile(r'^(\\w+\\s?)*$')\n", 2),
    ("ARCH143", "from authlib.jose import jwt\ndef f(t, k):\n    return jwt.decode(t, k)\n", 3),
    ("ARCH144", "import re\n@app.get('/q')\ndef f(q: str, text: str):\n    return re.findall(q, text)\n", 4),
    # ARCH120-ARCH126 taint rules (app/static/rules_taint.py; more in tests/test_static_taint.py)
    ("ARCH120", "import os\n@app.get('/d')\ndef f(host: str):\n    os.system('ping ' + host)\n", 4),
    ("ARCH121", "@app.get('/u')\ndef f(name: str):\n    cur.execute(f\"SELECT * FROM u WHERE n = '{name}'\")\n", 3),
    ("ARCH122", "import requests\n@app.get('/p')\ndef f(url: str):\n    return requests.get(url, timeout=3)\n", 4),
    ("ARCH123", "@app.get('/r')\ndef f(name: str):\n    return open('/srv/' + name).read()\n", 3),
    (
        "ARCH124",
        "import tarfile\n@app.post('/t')\ndef f(up: UploadFile):\n    with tarfile.open(fileobj=up.file) as t:\n"
        "        t.extractall('/srv')\n",
        5,
    ),
    ("ARCH125", "from lxml import etree\n@app.post('/x')\ndef f(body: str):\n    return etree.fromstring(body)\n", 4),
    ("ARCH126", "@app.post('/l')\ndef f(user: str):\n    log.info(f'login {user}')\n", 3),
    # ARCH115-ARCH118 (app/static/blocking.py, app/static/state_checks.py)
    (
        "ARCH115",
        "import requests\ndef g(u):\n    return requests.get(u, timeout=3)\nasync def f(u):\n    return g(u)\n",
        5,
    ),
    (
        "ARCH118",
        "import time\nfrom fastapi import FastAPI\napp = FastAPI()\ndef nap():\n    time.sleep(1)\n"
        "@app.get('/')\nasync def root():\n    nap()\n",
        8,
    ),
    (
        "ARCH116",
        "import os, threading\nclass C:\n    def __init__(self):\n        self._lock = threading.Lock()\n"
        "    def set(self, v):\n        with self._lock:\n            os.environ['X'] = v\n",
        7,
    ),
    ("ARCH117", "def f(xs):\n    for x in xs:\n        if x:\n            xs.remove(x)\n", 4),
    (
        "ARCH119",
        "import stripe\ndef charge(key, amount):\n    stripe.api_key = key\n"
        "    return stripe.Charge.create(amount=amount)\n",
        3,
    ),
    (
        "ARCH130",
        "import asyncio\nS = asyncio.Semaphore(2)\nasync def f(m):\n    await S.acquire()\n"
        "    r = await m()\n    S.release()\n    return r\n",
        4,
    ),
]

NEGATIVE: list[tuple[str, str]] = [
    # ARCH114: an earlier handler takes CancelledError and re-raises it, so `except BaseException` never sees it
    (
        "ARCH114",
        "import asyncio\nasync def f(x, log):\n    try:\n        await x()\n    except asyncio.CancelledError:\n"
        "        raise\n    except BaseException:\n        log.exception('closing failed')\n",
    ),
    # ARCH101: return_exceptions=True, one awaitable, a TaskGroup
    ("ARCH101", "import asyncio\nasync def f(a, b):\n    await asyncio.gather(a(), b(), return_exceptions=True)\n"),
    ("ARCH101", "import asyncio\nasync def f(a):\n    await asyncio.gather(a())\n"),
    (
        "ARCH101",
        "import asyncio\nasync def f(a, b):\n    async with asyncio.TaskGroup() as tg:\n"
        "        tg.create_task(a())\n        tg.create_task(b())\n",
    ),
    # ARCH102: stored in a set with a done callback, awaited, task group, returned
    (
        "ARCH102",
        "import asyncio\nBG = set()\nasync def f(c):\n    t = asyncio.create_task(c())\n    BG.add(t)\n"
        "    t.add_done_callback(BG.discard)\n",
    ),
    ("ARCH102", "import asyncio\nasync def f(c):\n    await asyncio.create_task(c())\n"),
    ("ARCH102", "import asyncio\nasync def f(c):\n    return asyncio.create_task(c())\n"),
    (
        "ARCH102",
        "import asyncio\nasync def f(c):\n    async with asyncio.TaskGroup() as tg:\n        tg.create_task(c())\n",
    ),
    ("ARCH102", "import asyncio\nclass W:\n    def start(self, c):\n        self._task = asyncio.create_task(c())\n"),
    # ARCH103: a lock held, no await, instance attribute, local shadow
    (
        "ARCH103",
        "import asyncio\nCACHE = {}\nLOCK = asyncio.Lock()\nasync def f(k, load):\n    async with LOCK:\n"
        "        CACHE[k] = await load(k)\n",
    ),
    ("ARCH103", "CACHE = {}\nasync def f(k, v):\n    CACHE[k] = v\n"),
    (
        "ARCH103",
        "class S:\n    registry = {}\n    def __init__(self):\n        self.registry = {}\n"
        "    async def add(self, k, load):\n        self.registry[k] = await load()\n",
    ),
    ("ARCH103", "CACHE = {}\nasync def f(k, load):\n    CACHE = {}\n    CACHE[k] = await load(k)\n"),
    (
        "ARCH103",
        "import asyncio\nSEEN = []\nclass C:\n    def __init__(self):\n        self._lock = asyncio.Lock()\n"
        "    async def f(self, k, load):\n        await load(k)\n        async with self._lock:\n"
        "            SEEN.append(k)\n",
    ),
    ("ARCH103", "CACHE = {}\nasync def f(k, load):\n    v = CACHE.get(k)\n    return v or await load(k)\n"),
    # ARCH104: used as a context manager, closed in finally, stored on self, returned by a factory
    (
        "ARCH104",
        "import httpx\nasync def f(u):\n    async with httpx.AsyncClient(timeout=3) as c:\n"
        "        return await c.get(u)\n",
    ),
    (
        "ARCH104",
        "import httpx\nasync def f(u):\n    c = httpx.AsyncClient(timeout=3)\n    try:\n        return await c.get(u)\n"
        "    finally:\n        await c.aclose()\n",
    ),
    ("ARCH104", "import httpx\nclass A:\n    def __init__(self):\n        self.http = httpx.AsyncClient(timeout=3)\n"),
    ("ARCH104", "import httpx\ndef make() -> httpx.AsyncClient:\n    return httpx.AsyncClient(timeout=3)\n"),
    (
        "ARCH104",
        "import httpx\nasync def f(stack):\n    c = httpx.AsyncClient(timeout=3)\n"
        "    await stack.enter_async_context(c)\n",
    ),
    ("ARCH104", "import httpx\nCLIENT = httpx.AsyncClient(timeout=3)\n"),
    # ARCH105: explicit timeouts, httpx's default, ClientTimeout
    (
        "ARCH105",
        "import aiohttp\nasync def f():\n"
        "    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as s:\n"
        "        pass\n",
    ),
    ("ARCH105", "import httpx\nasync def f():\n    async with httpx.AsyncClient() as c:\n        pass\n"),
    ("ARCH105", "import requests\ndef f(u):\n    return requests.get(u, timeout=(2, 10))\n"),
    ("ARCH105", "import requests\ndef f(u, **kw):\n    return requests.get(u, **kw)\n"),
    ("ARCH105", "from urllib.request import urlopen\ndef f(u):\n    return urlopen(u, timeout=5).read()\n"),
    ("ARCH105", "def f(d):\n    return d.get('k', None)\n"),
    ("ARCH105", "import queue\ndef f(q: queue.Queue):\n    return q.get(timeout=None)\n"),
    # ARCH106: asyncio lock, no await inside, threading lock released before the await
    ("ARCH106", "import asyncio\nL = asyncio.Lock()\nasync def f(x):\n    async with L:\n        await x()\n"),
    (
        "ARCH106",
        "import threading\nL = threading.Lock()\nN = []\nasync def f(x):\n    with L:\n        N.append(1)\n"
        "    await x()\n",
    ),
    ("ARCH106", "import threading\nL = threading.Lock()\ndef f(x):\n    with L:\n        x()\n"),
    # ARCH107: asyncio.sleep, sync function, handed to a thread
    ("ARCH107", "import asyncio\nasync def f():\n    await asyncio.sleep(1)\n"),
    ("ARCH107", "import time\ndef f():\n    time.sleep(1)\n"),
    ("ARCH107", "import asyncio, time\nasync def f():\n    await asyncio.to_thread(time.sleep, 1)\n"),
    # ARCH108: async libraries, to_thread with a lambda, a nested sync helper, aiofiles' open
    ("ARCH108", "import httpx\nasync def f(c: httpx.AsyncClient, u):\n    return await c.get(u)\n"),
    (
        "ARCH108",
        "import asyncio, requests\nasync def f(u):\n"
        "    return await asyncio.to_thread(lambda: requests.get(u, timeout=3))\n",
    ),
    (
        "ARCH108",
        "import subprocess\nasync def f(cmd):\n    def run():\n"
        "        return subprocess.run(cmd, check=True)\n    return run\n",
    ),
    (
        "ARCH108",
        "from aiofiles import open\nasync def f(p):\n    async with open(p) as fh:\n        return await fh.read()\n",
    ),
    (
        "ARCH108",
        "import asyncio\nasync def f(cmd):\n    p = await asyncio.create_subprocess_exec(*cmd)\n    await p.wait()\n",
    ),
    (
        "ARCH108",
        "import aiosqlite\nasync def f(p):\n    async with aiosqlite.connect(p) as db:\n"
        "        await db.execute('x')\n",
    ),
    # ARCH109: sync route (FastAPI's threadpool), async route awaiting an async client
    (
        "ARCH109",
        "import requests\nfrom fastapi import FastAPI\napp = FastAPI()\n@app.get('/')\ndef root():\n"
        "    return requests.get('http://x', timeout=2).json()\n",
    ),
    (
        "ARCH109",
        "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/')\nasync def root(c):\n    return await c.get('http://x')\n",
    ),
    # ARCH110: verified decode, unverified header only
    ("ARCH110", "import jwt\ndef f(t, k):\n    return jwt.decode(t, k, algorithms=['RS256'], audience='a')\n"),
    ("ARCH110", "import jwt\ndef f(t):\n    return jwt.get_unverified_header(t)['kid']\n"),
    (
        "ARCH110",
        "import jwt\ndef f(t, k):\n    return jwt.decode(t, k, algorithms=['HS256'], options={'verify_aud': False})\n",
    ),
    # ARCH111: safe loaders
    ("ARCH111", "import yaml\ndef f(s):\n    return yaml.safe_load(s)\n"),
    ("ARCH111", "import yaml\ndef f(s):\n    return yaml.load(s, Loader=yaml.SafeLoader)\n"),
    ("ARCH111", "import torch\ndef f(p):\n    return torch.load(p, weights_only=True)\n"),
    ("ARCH111", "import numpy as np\ndef f(p):\n    return np.load(p)\n"),
    ("ARCH111", "import json\ndef f(b):\n    return json.loads(b)\n"),
    # ARCH113: verification on, a CA bundle
    ("ARCH113", "import httpx\nc = httpx.AsyncClient(verify='/etc/ca.pem', timeout=5)\n"),
    ("ARCH113", "import jwt\ndef f(t, k):\n    return jwt.decode(t, k, algorithms=['RS256'], verify=True)\n"),
    # ARCH114: except Exception, re-raise after cleanup, no await in the try
    (
        "ARCH114",
        "async def f(x, log):\n    try:\n        await x()\n    except Exception:\n        log.exception('x')\n",
    ),
    (
        "ARCH114",
        "import asyncio\nasync def f(x, clean):\n    try:\n        await x()\n    except asyncio.CancelledError:\n"
        "        clean()\n        raise\n",
    ),
    ("ARCH114", "async def f(x):\n    try:\n        x()\n    except BaseException:\n        pass\n"),
    (
        "ARCH114",
        "async def f(self, x):\n    try:\n        await x()\n    except BaseException as exc:\n"
        "        self._convert_error(exc)\n",
    ),
    ("ARCH114", "def f(x):\n    try:\n        x()\n    except:\n        pass\n"),
    ("ARCH140", "import random\ndef pick_token_bucket(buckets):\n    return random.choice(buckets)\n"),
    ("ARCH141", "import os\nDB_PASSWORD = os.environ.get('DB_PASSWORD', '')\n"),
    ("ARCH142", "import re\nSLUG = re.compile(r'^[a-z0-9]+(?:-[a-z0-9]+)*$')\n"),
    ("ARCH143", "from authlib.jose import jwt\ndef f(t, k):\n    claims = jwt.decode(t, k)\n    claims.validate()\n"),
    ("ARCH144", "import re\n@app.get('/q')\ndef f(q: str, text: str):\n    return re.findall(re.escape(q), text)\n"),
    ("ARCH120", "import os, shlex\n@app.get('/d')\ndef f(host: str):\n    os.system('ping ' + shlex.quote(host))\n"),
    ("ARCH121", "@app.get('/u')\ndef f(name: str):\n    cur.execute('SELECT * FROM u WHERE n = ?', (name,))\n"),
    (
        "ARCH122",
        "import requests\n@app.get('/p')\ndef f(uid: str):\n"
        "    return requests.get(f'https://api.example.org/u/{uid}', timeout=3)\n",
    ),
    (
        "ARCH123",
        "import os\n@app.get('/r')\ndef f(name: str):\n    return open('/srv/' + os.path.basename(name)).read()\n",
    ),
    (
        "ARCH124",
        "import tarfile\n@app.post('/t')\ndef f(up: UploadFile):\n    with tarfile.open(fileobj=up.file) as t:\n"
        "        t.extractall('/srv', filter='data')\n",
    ),
    (
        "ARCH125",
        "import defusedxml.ElementTree as ET\n@app.post('/x')\ndef f(body: str):\n    return ET.fromstring(body)\n",
    ),
    ("ARCH126", "@app.post('/l')\ndef f(user: str):\n    log.info('login %r', user)\n"),
    (
        "ARCH115",
        "import asyncio, requests\ndef g(u):\n    return requests.get(u, timeout=3)\n"
        "async def f(u):\n    return await asyncio.to_thread(g, u)\n",
    ),
    (
        "ARCH118",
        "from fastapi import FastAPI\napp = FastAPI()\ndef norm(s):\n    return s.strip()\n"
        "@app.get('/')\nasync def root(s: str):\n    return norm(s)\n",
    ),
    (
        "ARCH116",
        "import os, threading\n_L = threading.Lock()\nclass C:\n    def set(self, v):\n"
        "        with _L:\n            os.environ['X'] = v\n",
    ),
    ("ARCH117", "def f(xs):\n    for x in list(xs):\n        if x:\n            xs.remove(x)\n"),
    (
        "ARCH111",
        "import argparse, pickle\nargs = argparse.ArgumentParser().parse_args()\n"
        "data = pickle.load(open(args.input, 'rb'))\n",
    ),
    (
        "ARCH119",
        "import stripe\ndef charge(key, amount):\n    return stripe.Charge.create(amount=amount, api_key=key)\n",
    ),
    (
        "ARCH130",
        "import asyncio\nS = asyncio.Semaphore(2)\nasync def f(m):\n    async with S:\n        return await m()\n",
    ),
]


@pytest.mark.parametrize(("rule", "source", "line"), POSITIVE, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(POSITIVE)])
def test_rule_fires_on_its_pattern(rule: str, source: str, line: int) -> None:
    assert (rule, line) in hits(source)


@pytest.mark.parametrize(("rule", "source"), NEGATIVE, ids=[f"{r}-{i}" for i, (r, _) in enumerate(NEGATIVE)])
def test_rule_is_quiet_on_the_safe_look_alike(rule: str, source: str) -> None:
    assert rule not in rule_ids(source)


def test_every_ast_rule_has_positive_and_negative_cases() -> None:
    # secrets: tests/test_static_engine.py; ARCH150 is its own module check: tests/test_static_context.py
    ast_rules = {rule.id for rule in RULES} - {"ARCH112", "ARCH150"}
    assert {rule for rule, _, _ in POSITIVE} == ast_rules
    assert {rule for rule, _ in NEGATIVE} == ast_rules


def test_catalogue_is_complete_and_consistent() -> None:
    ids = [rule.id for rule in RULES]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(rule.id.startswith("ARCH1") for rule in RULES)
    for rule in RULES:
        assert isinstance(rule.category, Category) and isinstance(rule.severity, Severity)
        assert rule.title and rule.message.endswith(".") and rule.fix.endswith((".", ")"))
    assert RULES_BY_ID["ARCH110"].severity is Severity.CRITICAL


def test_route_blocking_call_is_reported_once_as_the_route_rule() -> None:
    source = (
        "import time\nfrom fastapi import FastAPI\napp = FastAPI()\n@app.get('/')\nasync def root():\n"
        "    time.sleep(1)\n"
    )
    assert rule_ids(source) == {"ARCH109"}


def test_nested_sync_def_inside_route_is_not_the_route() -> None:
    source = (
        "import time\nfrom fastapi import FastAPI\napp = FastAPI()\n@app.get('/')\nasync def root():\n"
        "    def work():\n        time.sleep(1)\n    return work\n"
    )
    assert rule_ids(source) == set()


def test_await_under_threading_lock_reports_every_await() -> None:
    source = (
        "import threading\nL = threading.Lock()\nasync def f(x):\n    with L:\n        await x()\n"
        "        async for _ in x():\n            pass\n"
    )
    assert [line for rule, line in hits(source) if rule == "ARCH106"] == [5, 6]


def test_span_of_a_multiline_call_covers_the_statement() -> None:
    source = "import pickle\n\ndef f(b):\n    data = pickle.loads(\n        b,\n    )\n    return data\n"
    (finding,) = check_module(ast.parse(source))
    assert finding.line == 4 and finding.span == (4, 6)


def test_span_of_a_compound_statement_is_its_header() -> None:
    source = (
        "import aiohttp\nasync def f():\n    async with aiohttp.ClientSession(\n        headers={}\n    ) as s:\n"
        "        x = 1\n        y = 2\n"
    )
    (finding,) = check_module(ast.parse(source))
    assert finding.rule_id == "ARCH105" and finding.span == (3, 5)
