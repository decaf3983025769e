"""XML intake: invoice uploads (lxml), SOAP-ish callbacks (ElementTree), SAML and RSS (minidom, sax)."""

import xml.dom.minidom
import xml.etree.ElementTree as ET
import xml.sax
from xml.sax.handler import feature_external_ges

import defusedxml.ElementTree as SafeET
import defusedxml.minidom
import defusedxml.sax
from fastapi import FastAPI, Request, UploadFile
from flask import Flask, request
from lxml import etree

api = FastAPI()
web = Flask(__name__)
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)  # ok: xxe
EMPTY_INVOICE = "<invoice><lines/></invoice>"


class TitleHandler(xml.sax.ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.titles: list[str] = []

    def characters(self, content: str) -> None:
        self.titles.append(content)


@api.post("/invoices")
async def invoice(request: Request) -> dict[str, int]:
    root = etree.fromstring(await request.body())  # expect: xxe
    return {"lines": len(root.findall("line"))}


@api.post("/invoices/safe")
async def invoice_safe(request: Request) -> dict[str, int]:
    root = etree.fromstring(await request.body(), SAFE_PARSER)  # ok: xxe
    return {"lines": len(root.findall("line"))}


@api.post("/invoices/upload")
async def invoice_upload(file: UploadFile) -> dict[str, int]:
    parser = etree.XMLParser(resolve_entities=True, load_dtd=True)  # near: xxe
    tree = etree.parse(file.file, parser)  # expect: xxe
    return {"lines": len(tree.findall("line"))}


@api.post("/invoices/upload-defused")
async def invoice_upload_defused(file: UploadFile) -> dict[str, int]:
    tree = SafeET.parse(file.file)  # ok: xxe
    return {"lines": len(tree.findall("line"))}


@api.get("/invoices/template")
async def invoice_template() -> dict[str, str]:
    root = ET.fromstring(EMPTY_INVOICE)  # ok: xxe
    ET.SubElement(root.find("lines"), "line", amount="0")
    return {"xml": ET.tostring(root, encoding="unicode")}


@web.post("/callbacks/status")
def status_callback():
    root = ET.fromstring(request.data)  # expect: xxe
    return {"status": root.findtext("status")}


@web.post("/callbacks/status-defused")
def status_callback_defused():
    root = SafeET.fromstring(request.data)  # ok: xxe
    return {"status": root.findtext("status")}


@web.post("/callbacks/batch")
def batch_callback():
    tree = ET.parse(request.files["batch"])  # expect: xxe
    return {"items": len(tree.getroot())}


@web.post("/saml/acs")
def saml_acs():
    doc = xml.dom.minidom.parseString(request.form["SAMLResponse"])  # expect: xxe
    return {"issuer": doc.getElementsByTagName("saml:Issuer")[0].firstChild.data}


@web.post("/saml/acs-defused")
def saml_acs_defused():
    doc = defusedxml.minidom.parseString(request.form["SAMLResponse"])  # ok: xxe
    return {"issuer": doc.getElementsByTagName("saml:Issuer")[0].firstChild.data}


@web.post("/rss")
def rss_titles():
    handler = TitleHandler()
    xml.sax.parseString(request.data, handler)  # expect: xxe
    return {"titles": handler.titles}


@web.post("/rss/external")
def rss_titles_external():
    handler = TitleHandler()
    parser = xml.sax.make_parser()  # near: xxe
    parser.setFeature(feature_external_ges, True)  # near: xxe
    parser.setContentHandler(handler)
    parser.parse(request.files["feed"])  # expect: xxe
    return {"titles": handler.titles}


@web.post("/rss/defused")
def rss_titles_defused():
    handler = TitleHandler()
    defusedxml.sax.parseString(request.data, handler)  # ok: xxe
    return {"titles": handler.titles}


def load_settings() -> ET.Element:
    return ET.parse("/etc/app/settings.xml").getroot()  # ok: xxe
