"""Async queue consumers (aiokafka, aio-pika) whose per-message work sometimes blocks."""

import asyncio
import json
import subprocess
import time

import aio_pika
import psycopg2
import requests
from aiokafka import AIOKafkaConsumer

DSN = "postgresql://consumer@db.internal/events"


def enrich(event: dict) -> dict:
    event["geo"] = requests.get(f"https://geo.internal/{event['ip']}", timeout=2).json()
    return event


def store(event: dict) -> None:
    with psycopg2.connect(DSN) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO events (body) VALUES (%s)", (json.dumps(event),))


def shape(event: dict) -> dict:
    return {k: v for k, v in event.items() if not k.startswith("_")}


async def consume_events(consumer: AIOKafkaConsumer) -> None:
    async for message in consumer:
        event = enrich(json.loads(message.value))  # expect: blocking-via-helper
        store(event)  # expect: blocking-via-helper


async def consume_events_offloaded(consumer: AIOKafkaConsumer) -> None:
    async for message in consumer:
        event = shape(json.loads(message.value))  # ok: blocking-via-helper
        event = await asyncio.to_thread(enrich, event)  # ok: blocking-via-helper
        await asyncio.to_thread(store, event)  # ok: blocking-via-helper


async def consume_commands(queue: aio_pika.abc.AbstractQueue) -> None:
    async with queue.iterator() as messages:
        async for message in messages:
            async with message.process():
                subprocess.run(["/opt/app/bin/handle", message.body.decode()], check=True, timeout=60)  # expect: blocking-io


async def consume_commands_async(queue: aio_pika.abc.AbstractQueue) -> None:
    async with queue.iterator() as messages:
        async for message in messages:
            async with message.process():
                proc = await asyncio.create_subprocess_exec("/opt/app/bin/handle", message.body.decode())  # ok: blocking-io
                await proc.wait()


async def throttled(consumer: AIOKafkaConsumer) -> None:
    async for message in consumer:
        store(json.loads(message.value))  # expect: blocking-via-helper
        time.sleep(0.05)  # expect: blocking-sleep


def consume_sync(messages: list[bytes]) -> None:
    for raw in messages:
        store(enrich(json.loads(raw)))
        time.sleep(0.05)
