"""Input validation and search helpers: sign-up checks, log grep, tag filters."""

import re

from fastapi import FastAPI, Query
from flask import Flask, request

app = Flask(__name__)
api = FastAPI()

EMAIL = re.compile(r"^([a-zA-Z0-9_.+-]+)*@[a-zA-Z0-9-]+\.[a-zA-Z]{2,}$")  # expect: redos
EMAIL_SIMPLE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$")  # ok: redos
HOST_LABELS = re.compile(r"^(\w+\.?)+$")  # expect: redos
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # ok: redos
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # ok: redos
WORDS = re.compile(r"^(\w+\s?)*$")  # expect: redos
NUMBER_LIST = re.compile(r"^(\d+,?)+$")  # expect: redos
PATTERNS = {"errors": r"\bERROR\b", "warnings": r"\bWARN(ING)?\b"}


def valid_name(name: str) -> bool:
    return re.match(r"^([a-zA-Z]+ ?)+$", name) is not None  # expect: redos


def valid_version(version: str) -> bool:
    return re.fullmatch(r"\d+(\.\d+){0,3}", version) is not None  # ok: redos


@app.get("/logs/grep")
def grep_logs():
    pattern = request.args["pattern"]
    with open("/var/log/app/app.log", encoding="utf-8") as fh:
        return {"lines": [line for line in fh if re.search(pattern, line)]}  # expect: redos


@app.get("/logs/grep-literal")
def grep_logs_literal():
    needle = re.compile(re.escape(request.args["text"]))  # ok: redos
    with open("/var/log/app/app.log", encoding="utf-8") as fh:
        return {"lines": [line for line in fh if needle.search(line)]}


@app.get("/logs/grep-named")
def grep_logs_named():
    kind = request.args.get("kind", "errors")
    if kind not in PATTERNS:
        return {"error": "unknown kind"}, 400
    matcher = re.compile(PATTERNS[kind])  # ok: redos
    with open("/var/log/app/app.log", encoding="utf-8") as fh:
        return {"lines": [line for line in fh if matcher.search(line)]}


@api.get("/tags")
async def filter_tags(prefix: str = Query(max_length=64)) -> list[str]:
    matcher = re.compile(prefix + ".*")  # expect: redos
    return [tag for tag in await all_tags() if matcher.match(tag)]


@api.get("/tags/escaped")
async def filter_tags_escaped(prefix: str = Query(max_length=64)) -> list[str]:
    matcher = re.compile(re.escape(prefix) + ".*")  # ok: redos
    return [tag for tag in await all_tags() if matcher.match(tag)]


@api.get("/documents/highlight")
async def highlight(term: str, text: str) -> dict[str, str]:
    return {"html": re.sub(f"({term})", r"<mark>\1</mark>", text)}  # expect: redos


@api.get("/documents/highlight-escaped")
async def highlight_escaped(term: str, text: str) -> dict[str, str]:
    return {"html": re.sub(f"({re.escape(term)})", r"<mark>\1</mark>", text)}  # ok: redos


def split_words(text: str) -> list[str]:
    return re.split(r"\s+", text.strip())  # ok: redos


async def all_tags() -> list[str]:
    return [tag for tag in ("python", "asyncio", "fastapi", "not a slug") if SLUG.match(tag)]
