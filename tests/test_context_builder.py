"""The context builder (app/review/context/): enclosing code, callees to depth 2, callers, settings,
the risk-ordered budget and the not-commentable format, on small repositories held in memory."""

from __future__ import annotations

import difflib

from app.review.budget import plan_review
from app.review.context import ChunkContext, RepoIndex, build_chunk_context
from app.review.diff import parse_diff
from app.review.repo_files import MappedRepoFiles

OLD_APP = '''"""Routes."""
from svc import helpers
from svc.settings import settings
from svc.client import Signer


class Handler:
    """Handles uploads."""

    def __init__(self) -> None:
        self._lock = None  # protects process-wide state
        self.signer = Signer()

    async def upload(self, blob: bytes) -> None:
        data = blob
        return None

    async def other(self) -> None:
        await self.upload(b"x")
'''
NEW_APP = OLD_APP.replace(
    "        data = blob\n        return None",
    "        data = blob\n"
    '        secret = helpers.load_secret("db")\n'
    '        if settings.ENVIRONMENT == "local":\n'
    "            return None\n"
    "        self.signer.sign_request(data)\n"
    "        return None",
)
HELPERS = '''import urllib.request


def _fetch(url):
    return urllib.request.urlopen(url).read()


def load_secret(name):
    """Load a secret."""
    return _fetch("http://secrets/" + name)
'''
SETTINGS = """from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    ENVIRONMENT: str = "local"
    DEBUG: bool = False


settings = Settings()
"""
CLIENT = """import boto3


class Signer:
    def sign_request(self, data):
        creds = boto3.Session().get_credentials()
        return creds
"""


def diff_of(path: str, old: str, new: str) -> str:
    body = difflib.unified_diff(old.splitlines(True), new.splitlines(True), n=1)
    return f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n" + "".join(list(body)[2:])


def context_for(path: str, old: str, new: str, others: dict[str, str], budget: int = 4000) -> ChunkContext:
    plan = plan_review(parse_diff(diff_of(path, old, new)))
    texts = {path: new, **others}
    source = MappedRepoFiles(texts)
    return build_chunk_context(plan.chunks[0].files, RepoIndex(source.read, source.paths(), [path]), budget)


def by_symbol(context: ChunkContext) -> dict[str, str]:
    return {item.symbol: item.text for item in context.included}


REPO = {"svc/helpers.py": HELPERS, "svc/settings.py": SETTINGS, "svc/client.py": CLIENT}


def test_callees_through_imports_self_and_depth_two() -> None:
    context = context_for("svc/app.py", OLD_APP, NEW_APP, REPO)
    items = by_symbol(context)
    assert "def load_secret(name):" in items["load_secret"]
    assert "called at svc/app.py:16" in items["load_secret"]
    # depth 2: the network call is one frame below what the diff calls
    assert "   5 |     return urllib.request.urlopen(url).read()" in items["_fetch"]
    assert "called two calls down" in items["_fetch"]
    assert "called by `load_secret` at svc/helpers.py:10" in items["_fetch"]
    assert "risk: network" in items["_fetch"]
    # self.signer.sign_request: a method of that name defined once in the repository
    assert "boto3.Session().get_credentials()" in items["Signer.sign_request"]


def test_settings_field_with_its_default() -> None:
    items = by_symbol(context_for("svc/app.py", OLD_APP, NEW_APP, REPO))
    text = items["Settings.ENVIRONMENT"]
    assert "svc/settings.py lines 4-5" in text
    assert '   5 |     ENVIRONMENT: str = "local"' in text and "   4 | class Settings(BaseSettings):" in text
    assert "DEBUG" not in text


def test_enclosing_function_and_class_outline_hide_the_diff_lines() -> None:
    items = by_symbol(context_for("svc/app.py", OLD_APP, NEW_APP, REPO))
    assert "lines 15-20: in the diff above" in items["Handler.upload"]
    outline = items["Handler"]
    assert "self._lock = None  # protects process-wide state" in outline
    assert "R " not in outline and " + " not in outline  # no diff coordinates, no change markers


def test_callers_of_a_changed_function() -> None:
    text = by_symbol(context_for("svc/app.py", OLD_APP, NEW_APP, REPO))["Handler.other"]
    assert "calls changed `Handler.upload` at svc/app.py:23" in text
    assert '  23 |         await self.upload(b"x")' in text


def test_callers_in_other_files() -> None:
    old = "def price(x):\n    return x\n"
    new = "def price(x, rate):\n    return x * rate\n"
    shop = "from svc.pricing import price\n\n\ndef total(items):\n    return sum(price(i) for i in items)\n"
    items = by_symbol(context_for("svc/pricing.py", old, new, {"svc/shop.py": shop}))
    assert "   5 |     return sum(price(i) for i in items)" in items["total"]


def test_a_removed_guard_still_shows_the_setting_it_read() -> None:
    config = "AUTH_REQUIRED = False  # off unless the operator turns it on\n"
    old = (
        "from svc import config\n\n\ndef mount(app):\n"
        "    if config.AUTH_REQUIRED:\n        app.add(check)\n    app.add(routes)\n"
    )
    new = "from svc import config\n\n\ndef mount(app):\n    app.add(routes)\n"
    items = by_symbol(context_for("svc/app.py", old, new, {"svc/config.py": config}))
    assert "   1 | AUTH_REQUIRED = False" in items["AUTH_REQUIRED"]


def test_long_functions_are_trimmed_in_the_middle_keeping_risky_lines() -> None:
    body = "".join(f"    step_{i} = {i}\n" for i in range(80))
    helper = f"import subprocess\n\n\ndef build():\n{body}    subprocess.run(['make'])\n{body}    return 1\n"
    old = "from svc.tools import build\n\n\nasync def go():\n    pass\n"
    new = "from svc.tools import build\n\n\nasync def go():\n    build()\n"
    text = by_symbol(context_for("svc/app.py", old, new, {"svc/tools.py": helper}))["build"]
    assert "line(s) omitted" in text
    assert "subprocess.run(['make'])" in text and "   4 | def build():" in text
    assert "step_40 = 40" not in text
    assert len(text.splitlines()) < 40


def test_budget_takes_risky_context_first_and_names_the_rest() -> None:
    full = context_for("svc/app.py", OLD_APP, NEW_APP, REPO)
    small = context_for("svc/app.py", OLD_APP, NEW_APP, REPO, budget=120)
    assert small.tokens <= 120 < full.tokens
    kept = [item.symbol for item in small.included]
    assert kept and all(item.risks for item in small.included)
    assert {item.symbol for item in small.left_out} | set(kept) == {item.symbol for item in full.included}
    assert "Handler" in {item.symbol for item in small.left_out}
    assert context_for("svc/app.py", OLD_APP, NEW_APP, REPO, budget=0).included == ()


def test_context_lines_are_recorded_per_path() -> None:
    context = context_for("svc/app.py", OLD_APP, NEW_APP, REPO)
    assert 4 in context.lines["svc/helpers.py"]
    assert not context.lines["svc/app.py"] & set(range(15, 21))  # the diff's own lines are not context


def test_unparsable_and_unknown_files_give_no_context() -> None:
    assert context_for("svc/app.py", "x = 1\n", "x = (\n", {}).included == ()
    assert context_for("svc/app.py", OLD_APP, NEW_APP, {"svc/helpers.py": "def broken(:\n"}).included != ()


def test_a_class_raised_bare_shows_its_definition() -> None:
    errors = "class TooLarge(Exception):\n    status_code = 413\n"
    old = "from svc.errors import TooLarge\n\n\ndef check(n):\n    raise ValueError(n)\n"
    new = "from svc.errors import TooLarge\n\n\ndef check(n):\n    raise TooLarge from None\n"
    items = by_symbol(context_for("svc/app.py", old, new, {"svc/errors.py": errors}))
    assert "   2 |     status_code = 413" in items["TooLarge"]


def test_super_annotated_parameters_and_local_instances_resolve_to_their_class() -> None:
    base = (
        "class Base:\n    @property\n    def middlewares(self):\n        return ['limit']\n\n\n"
        "class Headers(dict):\n"
        + "".join(f"    field_{i} = {i}\n" for i in range(25))
        + "    def __getitem__(self, key):\n        raise KeyError(key)\n"
        + "".join(f"    field_{i} = {i}\n" for i in range(25, 50))
        + "\n\nclass App:\n    secret_key = 'from-config'\n"
    )
    old = (
        "from svc.base import App, Base, Headers\n\n\nclass Child(Base):\n"
        "    def build(self, app: App, scope):\n        return []\n"
    )
    new = (
        "from svc.base import App, Base, Headers\n\n\nclass Child(Base):\n"
        "    def build(self, app: App, scope):\n        headers = Headers(scope)\n"
        "        host = headers.get('host').split(':')\n"
        "        return [*super().middlewares, app.secret_key, host]\n"
    )
    context = context_for("svc/app.py", old, new, {"svc/base.py": base})
    items = by_symbol(context)
    assert "   4 |         return ['limit']" in items["Base.middlewares"]  # super().middlewares
    assert "  63 |     secret_key = 'from-config'" in items["App.secret_key"]  # app: App
    # headers.get: inherited from dict, so it goes through Headers.__getitem__ (shown once)
    assert sum("  34 |         raise KeyError(key)" in item.text for item in context.included) == 1
    left = context_for("svc/app.py", old, new.replace("Headers(scope)", "make(scope)"), {"svc/base.py": base})
    assert all("raise KeyError" not in item.text for item in left.included)


def test_readers_of_what_the_change_sets() -> None:
    config = "class Config:\n    group_path: bool = False\n"
    middleware = (
        "class Middleware:\n    def labels(self, request):\n        path = request.path\n"
        "        if self._config.group_path:\n            path = request.template\n        return path\n"
    )
    new = config.replace("False", "True")
    items = by_symbol(context_for("svc/config.py", config, new, {"svc/middleware.py": middleware}))
    text = items["Middleware.labels"]
    assert "reads `group_path`, which the change sets, at svc/middleware.py:4" in text
    assert "   4 |         if self._config.group_path:" in text


def test_trimmed_enclosing_code_keeps_where_the_changed_lines_names_are_bound() -> None:
    filler = "".join(f"    step_{i} = {i}\n" for i in range(60))
    old = f"async def run(cmd):\n    proc = await start(cmd)\n{filler}    proc.terminate()\n"
    new = f"async def run(cmd):\n    proc = await start(cmd)\n{filler}    proc.kill()\n"
    text = by_symbol(context_for("svc/app.py", old, new, {}))["run"]
    assert "line(s) omitted" in text
    assert "   2 |     proc = await start(cmd)" in text
    assert "step_30 = 30" not in text


def test_context_for_test_files_comes_after_the_product_codes() -> None:
    helper = "import requests\n\n\ndef fetch(url):\n    return requests.get(url, timeout=5)\n"
    fixture = "import subprocess\n\n\ndef make_client():\n    return subprocess.run(['server'])\n"
    prod_old = "from svc.net import fetch\n\n\ndef go(u):\n    return None\n"
    prod_new = "from svc.net import fetch\n\n\ndef go(u):\n    return fetch(u)\n"
    test_old = "from tests.helpers import make_client\n\n\ndef test_go():\n    pass\n"
    test_new = "from tests.helpers import make_client\n\n\ndef test_go():\n    make_client()\n"
    diff = diff_of("tests/test_go.py", test_old, test_new) + diff_of("svc/app.py", prod_old, prod_new)
    plan = plan_review(parse_diff(diff))
    texts = {"svc/app.py": prod_new, "tests/test_go.py": test_new, "svc/net.py": helper, "tests/helpers.py": fixture}
    source = MappedRepoFiles(texts)
    repo = RepoIndex(source.read, source.paths(), ["tests/test_go.py", "svc/app.py"])
    full = build_chunk_context(plan.chunks[0].files, repo, 4000)
    order = [item.symbol for item in full.included]
    assert order.index("fetch") < order.index("make_client")  # both risky: the product code's first
    assert next(i for i in full.included if i.symbol == "make_client").secondary
    small = build_chunk_context(plan.chunks[0].files, repo, full.included[0].tokens + 1)
    assert [item.symbol for item in small.included] == ["fetch"]


def test_a_class_the_change_calls_is_shown_as_its_outline_and_annotations_pull_nothing() -> None:
    methods = "".join(f"    def method_{i}(self):\n        return {i}\n\n" for i in range(40))
    head = 'class Client:\n    """Talks to the store."""\n\n'
    big = f"{head}    def __init__(self, url):\n        self.url = url\n\n{methods}"
    typing = "class Scope:\n    pass\n"
    old = "from svc.client import Client\nfrom svc.types import Scope\n\n\ndef go(scope: Scope):\n    return 1\n"
    new = old.replace("return 1", "return Client('db')")
    items = by_symbol(context_for("svc/app.py", old, new, {"svc/client.py": big, "svc/types.py": typing}))
    text = items["Client"]
    assert "   5 |         self.url = url" in text and "method_20" not in text
    assert "Scope" not in items


def test_code_moved_into_a_new_function_and_names_filled_above_the_change_are_followed() -> None:
    base = "class Base:\n    @property\n    def middlewares(self):\n        return ['limit']\n"
    schema = "async def generate_schemas(safe=True):\n    return safe\n"
    old = (
        "from svc import schema\nfrom svc.base import Base\n\n\nclass App(Base):\n    def stack(self):\n"
        "        items = []\n        items.extend(super().middlewares)\n        return items\n\n\n"
        "async def start():\n    await schema.generate_schemas()\n"
    )
    new = old.replace(
        "        return items\n", "        for item in items:\n            item.patch()\n        return items\n"
    )
    new = new.replace(
        "async def start():\n    await schema.generate_schemas()\n",
        "async def start():\n    pass\n\n\nasync def start_main():\n    await schema.generate_schemas()\n",
    )
    items = by_symbol(context_for("svc/app.py", old, new, {"svc/base.py": base, "svc/schema.py": schema}))
    assert "   4 |         return ['limit']" in items["Base.middlewares"]  # filled into `items` on an unchanged line
    assert "   1 | async def generate_schemas(safe=True):" in items["generate_schemas"]  # moved into start_main


def test_a_function_found_as_caller_twice_keeps_both_call_sites() -> None:
    filler = "".join(f"        x{i} = {i}\n" for i in range(30))
    old = "class B:\n    def stop(self):\n        return 1\n\n    def start(self):\n        return 2\n\n"
    old += f"    def sub(self):\n        self.stop()\n{filler}        self.start()\n"
    new = old.replace("return 1", "return 10").replace("return 2", "return 20")
    text = by_symbol(context_for("svc/b.py", old, new, {}))["B.sub"]
    assert "   9 |         self.stop()" in text and "  40 |         self.start()" in text


def test_functions_defined_under_if_inside_a_function_are_scopes() -> None:
    body = "".join(f"            step_{i} = {i}\n" for i in range(6))
    head = "def register(app, generate):\n    if generate:\n\n        async def init_main():\n"
    old = f"{head}{body}            return 1\n"
    new = old.replace("return 1", "return 2")
    items = by_symbol(context_for("svc/app.py", old, new, {}))
    assert "holds the change at svc/app.py:11" in items["register.init_main"]
    assert "register" not in items
