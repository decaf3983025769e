"""Glue code of an ML platform: object storage, a Redis cache and a notification hook."""

import asyncio
import logging
import time as clock

import boto3
import redis
import requests

log = logging.getLogger(__name__)

s3 = boto3.client("s3")
cache = redis.Redis(host="cache", port=6379)
http = requests.Session()


async def fetch_artifact(key: str) -> bytes:
    obj = s3.get_object(Bucket="models", Key=key)  # expect: blocking-io
    return obj["Body"].read()


async def cached_score(user_id: str, score) -> float:
    hit = cache.get(f"score:{user_id}")  # expect: blocking-io
    if hit is not None:
        return float(hit)
    value = await score(user_id)
    cache.setex(f"score:{user_id}", 300, value)  # expect: blocking-io
    return value


async def notify(url: str, body: dict) -> None:
    http.post(url, json=body)  # expect: blocking-io, no-timeout


async def throttle() -> None:
    clock.sleep(0.2)  # expect: blocking-sleep


async def upload_report(path: str, key: str) -> None:
    await asyncio.to_thread(s3.upload_file, path, "reports", key)


def warm_cache(keys: list[str]) -> None:
    for key in keys:
        cache.get(key)


async def notify_all(urls: list[str], body: dict) -> None:
    results = await asyncio.gather(*(asyncio.to_thread(http.post, u, json=body, timeout=5) for u in urls), return_exceptions=True)
    for url, result in zip(urls, results):
        if isinstance(result, Exception):
            log.warning("notify %s failed: %s", url, result)
