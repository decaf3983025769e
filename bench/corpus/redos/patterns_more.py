"""Parsers for user-supplied text: config lines, CSV-ish lists, markdown, and a search endpoint in Django and aiohttp."""

import re

import regex
from aiohttp import web
from django.http import JsonResponse

CONFIG_LINE = re.compile(r"^\s*([\w.-]+)\s*=\s*(.*?)\s*$")  # ok: redos
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')  # ok: redos
TAG_LIST = re.compile(r"^(\s*[a-z0-9_-]+\s*,?)+$")  # expect: redos
HEX_PAIRS = re.compile(r"^([0-9a-f]{2}:?)+$", re.IGNORECASE)  # ok: redos
BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")  # ok: redos
PATH_SEGMENTS = r"^(/[\w.-]*)*$"  # ok: redos
MARKDOWN_LINK = r"\[([^\]]*)\]\(([^)]*)\)"  # ok: redos
REPEATED_WORDS = r"\b(\w+)(\s+\1\b)+"  # ok: redos
ANY_CHUNKS = r"(.|\s)*END"  # near: redos
ANY_LINES = r"(.|\n)*END"  # ok: redos
IPV4 = re.compile(r"^(\d{1,3}\.){3}\d{1,3}$")  # ok: redos
ATTRS = re.compile(  # expect: redos
    r"""
    ^(
        [a-z]+ \s*   # name
        =?           # optional equals
    )+$
    """,
    re.VERBOSE,
)


def body_until_end(text: str) -> str | None:
    match = re.match(ANY_CHUNKS, text)  # expect: redos
    return match.group(0) if match else None


def lines_until_end(text: str) -> str | None:
    match = re.match(ANY_LINES, text)  # ok: redos
    return match.group(0) if match else None


def segments(path: str) -> bool:
    return re.fullmatch(PATH_SEGMENTS, path) is not None  # ok: redos


def links(markdown: str) -> list[tuple[str, str]]:
    return re.findall(MARKDOWN_LINK, markdown)  # ok: redos


def duplicated(text: str) -> list[str]:
    return [m.group(1) for m in regex.finditer(REPEATED_WORDS, text)]  # ok: redos


def numbers(text: str) -> list[str]:
    return regex.findall(r"(\d+\.?\d*)+e", text)  # expect: redos


def search_view(request):
    pattern = request.GET.get("q", "")
    names = ["alpha", "beta", "gamma"]
    return JsonResponse({"names": [n for n in names if re.search(pattern, n)]})  # expect: redos


def search_view_literal(request):
    pattern = re.escape(request.GET.get("q", ""))
    names = ["alpha", "beta", "gamma"]
    return JsonResponse({"names": [n for n in names if re.search(pattern, n)]})  # ok: redos


async def filter_events(request: web.Request) -> web.Response:
    rule = re.compile(request.query["match"])  # expect: redos
    events = ["user.created", "user.deleted", "order.paid"]
    return web.json_response([e for e in events if rule.fullmatch(e)])


async def filter_events_prefix(request: web.Request) -> web.Response:
    prefix = request.query["prefix"]
    events = ["user.created", "user.deleted", "order.paid"]
    return web.json_response([e for e in events if e.startswith(prefix)])  # ok: redos


def normalise_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text)  # ok: redos
