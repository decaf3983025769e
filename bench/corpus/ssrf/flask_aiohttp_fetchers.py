"""Feed importer (Flask + urllib), image proxy (aiohttp), status checks (http.client), Celery fetcher."""

import http.client
import os
import urllib.request
from urllib.parse import urlparse

import requests
from aiohttp import ClientSession, ClientTimeout, web
from celery import shared_task
from flask import Flask, abort, jsonify, request

app = Flask(__name__)
FEED_HOSTS = frozenset({"feeds.bbci.co.uk", "rss.nytimes.com"})
IMAGE_CDN = "images.cdn.example.org"


@app.post("/feeds/import")
def import_feed():
    with urllib.request.urlopen(request.form["feed"], timeout=10) as resp:  # expect: ssrf
        body = resp.read()
    return jsonify(size=len(body))


@app.post("/feeds/import-checked")
def import_feed_checked():
    feed = request.form["feed"]
    if urlparse(feed).hostname not in FEED_HOSTS:
        abort(400)
    with urllib.request.urlopen(feed, timeout=10) as resp:  # ok: ssrf
        body = resp.read()
    return jsonify(size=len(body))


def fetch_catalogue() -> bytes:
    url = os.environ.get("CATALOGUE_URL", "https://catalogue.internal/export.json")
    if not url.startswith(("http://", "https://")):
        raise ValueError("CATALOGUE_URL must be http(s)")
    with urllib.request.urlopen(url, timeout=30) as resp:  # ok: ssrf
        return resp.read()


@app.get("/status")
def upstream_status():
    host = request.headers.get("X-Target-Host", "")
    conn = http.client.HTTPSConnection(host, timeout=5)  # expect: ssrf
    conn.request("GET", "/status")
    return jsonify(status=conn.getresponse().status)


@app.get("/status/cdn")
def cdn_status():
    conn = http.client.HTTPSConnection(IMAGE_CDN, timeout=5)  # ok: ssrf
    conn.request("GET", "/status")
    return jsonify(status=conn.getresponse().status)


@app.post("/avatars/from-url")
def avatar_from_url():
    data = requests.get(request.json["avatar_url"], timeout=10, stream=True)  # expect: ssrf
    return jsonify(type=data.headers.get("Content-Type"))


async def image_proxy(request: web.Request) -> web.StreamResponse:
    target = request.query["src"]
    async with ClientSession(timeout=ClientTimeout(total=10)) as session:
        async with session.get(target) as upstream:  # expect: ssrf
            return web.Response(body=await upstream.read(), content_type=upstream.content_type)


async def image_proxy_cdn(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if not name.replace("-", "").replace(".", "").isalnum():
        raise web.HTTPBadRequest()
    async with ClientSession(timeout=ClientTimeout(total=10)) as session:
        async with session.get(f"https://{IMAGE_CDN}/img/{name}") as upstream:  # ok: ssrf
            return web.Response(body=await upstream.read(), content_type=upstream.content_type)


async def callback(request: web.Request) -> web.Response:
    payload = await request.json()
    async with ClientSession(timeout=ClientTimeout(total=10)) as session:
        await session.post(payload["callback"], json={"done": True})  # expect: ssrf
    return web.json_response({"ok": True})


@shared_task
def fetch_remote_file(url: str) -> int:
    resp = requests.get(url, timeout=30)  # expect: ssrf
    return len(resp.content)


@shared_task
def fetch_remote_file_checked(url: str) -> int:
    if urlparse(url).hostname not in FEED_HOSTS:
        raise ValueError("host not allowed")
    resp = requests.get(url, timeout=30, allow_redirects=False)  # ok: ssrf
    return len(resp.content)
