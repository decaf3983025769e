"""A Kafka consumer that ingests partner XML, and an aiohttp sitemap checker."""

import io
import xml.etree.ElementTree as ET

import defusedxml.ElementTree as SafeET
from aiohttp import web
from kafka import KafkaConsumer
from lxml import etree

HTML_PARSER = etree.HTMLParser(no_network=True)


def consume_partner_feeds(consumer: KafkaConsumer) -> int:
    count = 0
    for message in consumer:
        root = etree.fromstring(message.value)  # expect: xxe
        count += len(root)
    return count


def consume_partner_feeds_defused(consumer: KafkaConsumer) -> int:
    count = 0
    for message in consumer:
        root = SafeET.fromstring(message.value)  # ok: xxe
        count += len(root)
    return count


def consume_partner_events(consumer: KafkaConsumer) -> list[str]:
    kinds = []
    for message in consumer:
        for _, element in ET.iterparse(io.BytesIO(message.value)):  # expect: xxe
            kinds.append(element.tag)
    return kinds


async def sitemap(request: web.Request) -> web.Response:
    body = await request.read()
    root = etree.XML(body, etree.XMLParser(no_network=False))  # expect: xxe
    return web.json_response({"urls": len(root)})


async def sitemap_defused(request: web.Request) -> web.Response:
    root = SafeET.fromstring(await request.read())  # ok: xxe
    return web.json_response({"urls": len(root)})


async def page_title(request: web.Request) -> web.Response:
    doc = etree.fromstring(await request.read(), HTML_PARSER)  # ok: xxe
    return web.json_response({"title": doc.findtext(".//title")})
