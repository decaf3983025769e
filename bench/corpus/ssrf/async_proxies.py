"""Outbound fetches driven by requests and queues: a Starlette image proxy, a Django OEmbed view, a
Celery webhook sender, a Kafka crawler and an aiohttp health prober, with the allow-listed variants."""

import json
from urllib.parse import urlparse

import httpx
import requests
from aiohttp import ClientSession, ClientTimeout, web
from celery import shared_task
from django.http import HttpRequest, JsonResponse
from kafka import KafkaConsumer
from starlette.requests import Request
from starlette.responses import Response

OEMBED_PROVIDERS = {"www.youtube.com": "https://www.youtube.com/oembed", "vimeo.com": "https://vimeo.com/api/oembed.json"}
PROBE_PORTS = frozenset({80, 443, 8080})
CDN = "https://cdn.example.net"


async def image_proxy(request: Request) -> Response:
    src = request.query_params["src"]
    async with httpx.AsyncClient(timeout=10, follow_redirects=True) as client:
        upstream = await client.get(src)  # expect: ssrf
    return Response(upstream.content, media_type=upstream.headers.get("content-type"))


async def image_proxy_cdn(request: Request) -> Response:
    path = request.query_params["path"].lstrip("/")
    async with httpx.AsyncClient(timeout=10) as client:
        upstream = await client.get(f"{CDN}/{path}")  # ok: ssrf
    return Response(upstream.content, media_type=upstream.headers.get("content-type"))


def oembed(request: HttpRequest) -> JsonResponse:
    target = request.GET["url"]
    endpoint = request.GET.get("endpoint", "https://www.youtube.com/oembed")
    resp = requests.get(endpoint, params={"url": target, "format": "json"}, timeout=5)  # expect: ssrf
    return JsonResponse(resp.json())


def oembed_known(request: HttpRequest) -> JsonResponse:
    target = request.GET["url"]
    endpoint = OEMBED_PROVIDERS.get(urlparse(target).hostname or "")
    if endpoint is None:
        return JsonResponse({"error": "unsupported provider"}, status=400)
    resp = requests.get(endpoint, params={"url": target, "format": "json"}, timeout=5)  # ok: ssrf
    return JsonResponse(resp.json())


@shared_task(bind=True, max_retries=5)
def deliver_webhook(self, hook_url: str, payload: dict) -> int:
    resp = requests.post(hook_url, json=payload, timeout=10)  # expect: ssrf
    return resp.status_code


def crawl(consumer: KafkaConsumer) -> None:
    for record in consumer:
        job = json.loads(record.value)
        page = requests.get(job["url"], timeout=10)  # expect: ssrf
        print(len(page.text))


async def probe(request: web.Request) -> web.Response:
    host = request.match_info["host"]
    port = int(request.query.get("port", "80"))
    if port not in PROBE_PORTS:
        raise web.HTTPBadRequest()
    async with ClientSession(timeout=ClientTimeout(total=3)) as session:
        async with session.get(f"http://{host}:{port}/healthz") as resp:  # expect: ssrf
            return web.json_response({"status": resp.status})


async def probe_self(request: web.Request) -> web.Response:
    async with ClientSession(timeout=ClientTimeout(total=3)) as session:
        async with session.get("http://127.0.0.1:8080/healthz") as resp:  # ok: ssrf
            return web.json_response({"status": resp.status})
