"""More XML intake: a Django SAML ACS view, a Starlette sitemap upload, a Celery feed task, a pika
consumer, a pulldom streaming import and an lxml parser fed in chunks, next to the defused variants."""

import xml.dom.pulldom
import xml.etree.ElementTree as ET

import defusedxml.ElementTree as SafeET
import defusedxml.pulldom
import pika
from celery import shared_task
from django.http import HttpRequest, HttpResponse
from lxml import etree
from starlette.requests import Request
from starlette.responses import JSONResponse

SAFE = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
TEMPLATE_PATH = "/etc/app/feed-template.xml"


def saml_acs(request: HttpRequest) -> HttpResponse:
    assertion = ET.fromstring(request.POST["SAMLResponse"])  # expect: xxe
    return HttpResponse(assertion.tag)


def saml_acs_defused(request: HttpRequest) -> HttpResponse:
    assertion = SafeET.fromstring(request.POST["SAMLResponse"])  # ok: xxe
    return HttpResponse(assertion.tag)


async def sitemap_upload(request: Request) -> JSONResponse:
    form = await request.form()
    upload = form["sitemap"]
    tree = etree.parse(upload.file)  # expect: xxe
    return JSONResponse({"urls": len(tree.getroot())})


async def sitemap_upload_safe(request: Request) -> JSONResponse:
    form = await request.form()
    upload = form["sitemap"]
    tree = etree.parse(upload.file, SAFE)  # ok: xxe
    return JSONResponse({"urls": len(tree.getroot())})


@shared_task
def import_feed(xml_text: str) -> int:
    root = etree.fromstring(xml_text.encode())  # expect: xxe
    return len(root)


@shared_task
def import_template() -> int:
    root = ET.parse(TEMPLATE_PATH).getroot()  # ok: xxe
    return len(root)


def on_invoice(channel, method, properties, body) -> None:
    doc = xml.dom.pulldom.parseString(body.decode())  # expect: xxe
    for event, node in doc:
        if event == xml.dom.pulldom.START_ELEMENT and node.tagName == "line":
            doc.expandNode(node)
    channel.basic_ack(method.delivery_tag)


def on_invoice_defused(channel, method, properties, body) -> None:
    doc = defusedxml.pulldom.parseString(body.decode())  # ok: xxe
    for event, node in doc:
        if event == xml.dom.pulldom.START_ELEMENT and node.tagName == "line":
            doc.expandNode(node)
    channel.basic_ack(method.delivery_tag)


async def chunked_import(request: Request) -> JSONResponse:
    parser = etree.XMLParser(load_dtd=True)  # near: xxe
    async for chunk in request.stream():
        parser.feed(chunk)  # expect: xxe
    root = parser.close()
    return JSONResponse({"children": len(root)})


async def chunked_import_safe(request: Request) -> JSONResponse:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    async for chunk in request.stream():
        parser.feed(chunk)  # ok: xxe
    root = parser.close()
    return JSONResponse({"children": len(root)})


def run_consumer() -> None:
    connection = pika.BlockingConnection(pika.ConnectionParameters("localhost"))
    channel = connection.channel()
    channel.basic_consume(queue="invoices", on_message_callback=on_invoice)
    channel.start_consuming()
