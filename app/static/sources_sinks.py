"""The taint catalogue (data, no logic): where untrusted data comes from, what cleans it, where it hurts.

``app.static.taint`` follows values inside a function (and into functions of the same module) from a
*source* to a *sink* unless a *sanitizer* cleaned them on the way; ``app.static.rules_taint`` turns
the hits into findings ARCH120-ARCH126. Names are qualified with the module's imports resolved
(``from flask import request`` makes ``request`` ``flask.request``).

Strong sources (a finding is high severity): parameters of route handlers (FastAPI/Starlette routers,
Flask/Quart blueprints, Sanic, Litestar, Django and aiohttp views), request and websocket objects,
Celery task arguments, Kafka/RabbitMQ message payloads, socket reads. *Weak* sources are what the
operator of a script types: ``sys.argv`` and ``input()`` reach only shell-interpreted sinks, at low
severity; argparse values are operator configuration and never a source.
"""

from __future__ import annotations


def _names(names: str) -> frozenset[str]:
    return frozenset(names.split())


# ------------------------------------------------------------------------------------------- sources

ROUTE_DECORATOR_ATTRS: frozenset[str] = _names(
    "get post put patch delete head options trace route api_route websocket websocket_route add_route view"
)
"""``@<router>.<attr>(...)``: the function is a route handler and its parameters are request data."""

NOT_ROUTERS: frozenset[str] = _names("requests httpx session client self.client pytest mock patch")
"""Receivers of ``.get``/``.post`` decorators that are not web routers."""

ROUTE_DECORATOR_NAMES: frozenset[str] = _names(
    "litestar.get litestar.post litestar.put litestar.patch litestar.delete litestar.route litestar.websocket_listener"
)

TASK_DECORATOR_ATTRS: frozenset[str] = _names("task shared_task actor periodic_task")
"""``@shared_task``, ``@app.task(...)``, ``@dramatiq.actor``: the arguments arrive from a queue."""

REQUEST_TYPES: frozenset[str] = _names(
    "Request HttpRequest WSGIRequest ASGIRequest WebSocket Websocket BaseRequest HTTPConnection "
    "fastapi.Request starlette.requests.Request starlette.requests.HTTPConnection "
    "starlette.websockets.WebSocket fastapi.WebSocket aiohttp.web.Request aiohttp.web.BaseRequest "
    "aiohttp.web_request.Request django.http.HttpRequest django.http.request.HttpRequest "
    "sanic.Request sanic.request.Request litestar.Request quart.Request flask.Request"
)
"""Annotations that make a parameter a request object (its attributes and reads are request data)."""

REQUEST_PARAM_NAMES: frozenset[str] = _names("request req")
"""Unannotated parameters of these names in a view (Django, aiohttp, Sanic) are request objects."""

REQUEST_GLOBALS: frozenset[str] = _names("flask.request quart.request bottle.request werkzeug.local.request")
"""Module-level request proxies."""

SAFE_REQUEST_ATTRS: frozenset[str] = _names(
    "method app state user auth session config scope loop transport remote_addr client id scheme "
    "is_secure is_ajax content_length blueprint endpoint url_rule ctx conn_info protocol route "
    "resolver_match site LANGUAGE_CODE url_for build_absolute_uri get_host is_json mimetype "
    "content_type charset _messages csrf_processing_done app_name name"
)
"""Attributes of a request that the client does not choose (or that the framework validated)."""

NO_LINE_BREAK_ATTRS: frozenset[str] = _names("headers cookies COOKIES META get_header")
"""Request parts whose values HTTP parsers refuse to carry CR/LF in: no log forging through them."""

SAFE_PARAM_ANNOTATIONS: frozenset[str] = _names(
    "int float bool complex UUID uuid.UUID datetime date time timedelta datetime.datetime datetime.date "
    "Decimal decimal.Decimal IPv4Address IPv6Address ipaddress.IPv4Address PositiveInt NonNegativeInt "
    "conint confloat StrictInt StrictBool StrictFloat Literal typing.Literal None"
)
"""A parameter the framework parses into one of these types carries no string the client chose."""

INJECTED_ANNOTATIONS: frozenset[str] = _names(
    "Session AsyncSession BackgroundTasks Response HTTPException Connection AsyncConnection Redis "
    "Settings Engine Depends Security Namespace Config Logger"
)
"""Parameters the framework injects (dependencies), not request data."""

INJECTED_DEFAULTS: frozenset[str] = _names("Depends Security fastapi.Depends fastapi.Security Provide Inject inject")

MESSAGE_TYPES: frozenset[str] = _names(
    "IncomingMessage AbstractIncomingMessage aio_pika.IncomingMessage aio_pika.abc.AbstractIncomingMessage "
    "ConsumerRecord aiokafka.ConsumerRecord kafka.consumer.fetcher.ConsumerRecord Message "
    "confluent_kafka.Message pika.spec.BasicProperties"
)
"""A parameter of one of these types is a message from a queue: its body/value is untrusted."""

CONSUMER_TYPES: frozenset[str] = _names(
    "KafkaConsumer AIOKafkaConsumer kafka.KafkaConsumer aiokafka.AIOKafkaConsumer Consumer "
    "confluent_kafka.Consumer aio_pika.Queue"
)
"""Iterating one of these yields messages (``for message in consumer``)."""

PIKA_CALLBACK_PARAMS: tuple[str, ...] = ("body",)
"""``def on_message(channel, method, properties, body)``: pika hands the payload as ``body``."""

WEAK_SOURCE_CALLS: frozenset[str] = _names("input raw_input")
WEAK_SOURCE_ATTRS: frozenset[str] = _names("sys.argv")
SOCKET_READ_METHODS: frozenset[str] = _names("recv recvfrom recv_into recvmsg")
WEBSOCKET_READ_METHODS: frozenset[str] = _names("receive_text receive_json receive_bytes")
HANDLER_READ_METHODS: frozenset[str] = _names(
    "get_argument get_arguments get_query_argument get_query_arguments get_body_argument get_body_arguments "
    "get_cookie get_param get_param_as_list"
)
"""``self.get_argument("q")`` in a Tornado handler (and Falcon's ``req.get_param``): request data."""

# --------------------------------------------------------------------------------------- sanitizers

SANITIZERS: frozenset[str] = _names(
    "int float bool complex len abs round hash id ord "
    "uuid.UUID UUID decimal.Decimal Decimal datetime.date.fromisoformat datetime.datetime.fromisoformat "
    "hashlib.sha256 hashlib.sha1 hashlib.md5 hashlib.sha512 hmac.new hmac.compare_digest "
    "isinstance callable hasattr"
)
"""Calls whose result carries no attacker-chosen text for any family."""

FAMILY_SANITIZERS: dict[str, frozenset[str]] = {
    "shlex.quote": frozenset({"command"}),
    "pipes.quote": frozenset({"command"}),
    "ipaddress.ip_address": frozenset({"command", "sql", "path", "log"}),
    "ipaddress.ip_network": frozenset({"command", "sql", "path", "log"}),
    "re.escape": frozenset({"regex", "log"}),
    "werkzeug.utils.secure_filename": frozenset({"path", "command", "log"}),
    "secure_filename": frozenset({"path", "command", "log"}),
    "os.path.basename": frozenset({"path"}),
    "posixpath.basename": frozenset({"path"}),
    "urllib.parse.quote": frozenset({"ssrf", "path", "command", "log"}),
    "urllib.parse.quote_plus": frozenset({"ssrf", "path", "command", "log"}),
    "html.escape": frozenset({"log"}),
    "json.dumps": frozenset({"log"}),
    "repr": frozenset({"log"}),
    "ascii": frozenset({"log"}),
    "markupsafe.escape": frozenset({"log"}),
}
"""Calls that make a value safe for some families only (a quoted shell word is still a path)."""

PATH_SAFE_ATTRS: frozenset[str] = _names("name stem suffix suffixes")
"""``Path(x).name``: the last component only, no directory can be escaped."""

VALIDATING_METHODS: frozenset[str] = _names(
    "isdigit isdecimal isnumeric isalnum isalpha isidentifier isascii is_relative_to fullmatch"
)
"""``if x.isdigit():`` / ``if p.is_relative_to(base):``: inside the branch, ``x`` is validated."""

NOT_VALIDATING_CALLS: frozenset[str] = _names("isinstance len bool type callable hasattr getattr print str")
"""In a guard, these calls look at a value without restricting what it holds."""

VALIDATOR_PREFIXES: tuple[str, ...] = ("check", "validate", "verify", "ensure", "is_valid", "is_allowed", "is_safe")
"""``err = check_model(request)`` and a rejecting ``if`` on ``err``: what was passed to it is validated."""

TERMINATING_CALLS: frozenset[str] = _names("abort flask.abort sys.exit exit os._exit quit fail pytest.fail pytest.skip")

# ------------------------------------------------------------------------------------- propagation

PROPAGATORS: frozenset[str] = _names(
    "str bytes bytearray list tuple set frozenset dict sorted reversed sum min max format iter next "
    "os.path.join os.path.normpath os.path.abspath os.path.realpath os.path.expanduser os.path.dirname "
    "os.path.splitext os.fspath os.fsencode os.fsdecode posixpath.join ntpath.join "
    "pathlib.Path pathlib.PurePath pathlib.PurePosixPath pathlib.PosixPath Path PurePath "
    "urllib.parse.urljoin urllib.parse.urlparse urllib.parse.urlsplit urllib.parse.unquote "
    "urllib.parse.unquote_plus urllib.parse.parse_qs urllib.parse.parse_qsl urllib.parse.urlunparse "
    "urllib.parse.urlunsplit urllib.parse.urlencode "
    "json.loads orjson.loads ujson.loads base64.b64decode base64.urlsafe_b64decode base64.b64encode "
    "binascii.unhexlify codecs.decode html.unescape shlex.split textwrap.dedent "
    "io.BytesIO io.StringIO tarfile.open tarfile.TarFile zipfile.ZipFile gzip.open gzip.decompress "
    "zlib.decompress yaml.safe_load copy.copy copy.deepcopy functools.partial "
    "typing.cast cast getattr open io.open codecs.open aiofiles.open"
)
"""Calls whose result carries their arguments' data (any argument, keywords included)."""

NON_PROPAGATING_METHODS: frozenset[str] = _names(
    "startswith endswith isdigit isdecimal isnumeric isalnum isalpha isidentifier isascii isspace count "
    "find rfind index rindex is_relative_to is_file is_dir exists is_absolute is_symlink match_info_keys "
    "__len__ __contains__ status_code"
)
"""Methods of a tainted value whose result holds none of its text (booleans and positions)."""

REDISPATCH_CALLS: dict[str, int] = {
    "asyncio.to_thread": 0,
    "anyio.to_thread.run_sync": 0,
    "starlette.concurrency.run_in_threadpool": 0,
    "fastapi.concurrency.run_in_threadpool": 0,
    "run_in_threadpool": 0,
    "sync_to_async": 0,
}
"""``asyncio.to_thread(f, *args)`` calls ``f(*args)`` (the index of ``f``); ``loop.run_in_executor``
(``f`` at 1) is matched by method name."""

# ------------------------------------------------------------------------------------------- sinks

SHELL_SINKS: dict[str, int] = {
    "os.system": 0,
    "os.popen": 0,
    "subprocess.getoutput": 0,
    "subprocess.getstatusoutput": 0,
    "commands.getoutput": 0,
    "asyncio.create_subprocess_shell": 0,
}
"""The string is parsed by a shell: any untrusted part of it is command injection."""

PROCESS_SINKS: frozenset[str] = _names(
    "subprocess.run subprocess.call subprocess.check_call subprocess.check_output subprocess.Popen"
)
"""With ``shell=True`` the command is a shell string; without, an argument list (argument injection)."""

EXEC_SINKS: dict[str, int] = {
    **{f"os.exec{suffix}": 0 for suffix in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")},
    **{f"os.spawn{suffix}": 1 for suffix in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")},
    "os.posix_spawn": 0,
    "os.posix_spawnp": 0,
    "asyncio.create_subprocess_exec": 0,
    "pty.spawn": 0,
}
"""Program and arguments as separate values, from the given positional index on."""

SQL_FUNCTION_SINKS: dict[str, int] = {
    "sqlalchemy.text": 0,
    "sqlalchemy.sql.text": 0,
    "sqlalchemy.sql.expression.text": 0,
    "sqlmodel.text": 0,
    "django.db.models.expressions.RawSQL": 0,
    "django.db.models.RawSQL": 0,
    "pandas.read_sql": 0,
    "pandas.read_sql_query": 0,
}
SQL_METHOD_SINKS: frozenset[str] = _names(
    "execute executemany executescript exec_driver_sql execute_sql raw mogrify fetch fetchrow fetchval "
    "fetch_all fetch_one fetch_val execute_many copy_expert read_sql"
)
"""Methods that run their first argument as SQL (``cursor.execute``, ``Manager.raw``, asyncpg's ``fetch``)."""

SQL_ALWAYS_METHODS: frozenset[str] = _names("executescript exec_driver_sql mogrify copy_expert")
SQL_RECEIVER_HINTS: tuple[str, ...] = ("cur", "conn", "db", "session", "engine", "pool", "database", "objects", "tx")
SQL_EXTRA_KEYWORDS: frozenset[str] = _names("where select tables order_by")
SQL_WORDS: tuple[str, ...] = (
    "select ",
    "insert ",
    "update ",
    "delete ",
    " where ",
    " from ",
    "order by",
    "group by",
    "drop ",
    "create ",
    "alter ",
    " values",
    " set ",
    " limit ",
    " join ",
    " union ",
    "pragma ",
    "truncate ",
)

HTTP_FUNCTION_SINKS: dict[str, int] = {
    **{f"requests.{verb}": 0 for verb in ("get", "post", "put", "patch", "delete", "head", "options")},
    **{f"httpx.{verb}": 0 for verb in ("get", "post", "put", "patch", "delete", "head", "options")},
    "requests.request": 1,
    "httpx.request": 1,
    "httpx.stream": 1,
    "aiohttp.request": 1,
    "urllib.request.urlopen": 0,
    "urllib.request.Request": 0,
    "urllib.request.urlretrieve": 0,
    "urllib3.request": 1,
    "http.client.HTTPConnection": 0,
    "http.client.HTTPSConnection": 0,
    "socket.create_connection": 0,
    "websockets.connect": 0,
}
"""The URL (or host) argument's index."""

FILE_URL_OPENERS: frozenset[str] = _names("urllib.request.urlopen urllib.request.urlretrieve urllib.request.Request")
"""They open ``file://`` URLs too: a caller's unchecked URL is worth a word (low) even without a source."""

HTTP_CLIENT_CTORS: frozenset[str] = _names(
    "httpx.Client httpx.AsyncClient requests.Session requests.session aiohttp.ClientSession "
    "urllib3.PoolManager ClientSession"
)
HTTP_CLIENT_NAMES: frozenset[str] = _names(
    "client session http http_client httpx_client sess async_client aiohttp_session"
)
HTTP_METHOD_SINKS: dict[str, int] = {
    **{verb: 0 for verb in ("get", "post", "put", "patch", "delete", "head", "options", "ws_connect")},
    "request": 1,
    "stream": 1,
    "urlopen": 1,
}

PATH_FUNCTION_SINKS: dict[str, tuple[int, ...]] = {
    "open": (0,),
    "io.open": (0,),
    "os.open": (0,),
    "codecs.open": (0,),
    "aiofiles.open": (0,),
    "os.remove": (0,),
    "os.unlink": (0,),
    "os.rmdir": (0,),
    "os.removedirs": (0,),
    "os.rename": (0, 1),
    "os.replace": (0, 1),
    "os.listdir": (0,),
    "os.scandir": (0,),
    "os.chmod": (0,),
    "os.truncate": (0,),
    "shutil.copy": (0, 1),
    "shutil.copy2": (0, 1),
    "shutil.copyfile": (0, 1),
    "shutil.copytree": (0, 1),
    "shutil.move": (0, 1),
    "shutil.rmtree": (0,),
    "shutil.unpack_archive": (0, 1),
    "flask.send_file": (0,),
    "flask.helpers.send_file": (0,),
    "flask.send_from_directory": (0,),  # the directory only: Flask joins the name safely
    "quart.send_file": (0,),
    "quart.send_from_directory": (0,),
    "starlette.responses.FileResponse": (0,),
    "fastapi.responses.FileResponse": (0,),
    "aiohttp.web.FileResponse": (0,),
    "sanic.response.file": (0,),
    "sanic.response.file_stream": (0,),
    "litestar.response.File": (0,),
    "torch.load": (0,),
    "numpy.load": (0,),
    "joblib.load": (0,),
    "safetensors.torch.load_file": (0,),
    "pandas.read_csv": (0,),
    "pandas.read_parquet": (0,),
}
"""Functions that open, list, move or delete the path at these positional indexes."""

PATH_METHOD_SINKS: frozenset[str] = _names(
    "read_text read_bytes write_text write_bytes unlink rmdir touch iterdir rmtree"
)
"""``Path`` methods: the receiver is the path."""

UPLOAD_SAVE_METHODS: frozenset[str] = _names("save")
"""``upload.save(dest)`` (werkzeug ``FileStorage``): the destination path."""

ARCHIVE_EXTRACT_METHODS: frozenset[str] = _names("extractall extract")
ARCHIVE_SAFE_CTORS: frozenset[str] = _names("zipfile.ZipFile")
"""CPython's ``zipfile`` strips ``..`` and absolute names on extraction; ``tarfile`` does not (before 3.14)."""

XML_SINKS: dict[str, str] = {
    **{f"lxml.etree.{fn}": "lxml" for fn in ("fromstring", "XML", "parse", "iterparse", "XMLID", "fromstringlist")},
    **{
        f"xml.etree.{mod}.{fn}": "stdlib"
        for mod in ("ElementTree", "cElementTree")
        for fn in ("fromstring", "XML", "parse", "iterparse", "fromstringlist", "XMLID")
    },
    "xml.dom.minidom.parse": "stdlib",
    "xml.dom.minidom.parseString": "stdlib",
    "xml.dom.pulldom.parse": "stdlib",
    "xml.dom.pulldom.parseString": "stdlib",
    "xml.sax.parse": "stdlib",
    "xml.sax.parseString": "stdlib",
}
"""Parsers that expand entities (and, for lxml and sax with features on, load external ones)."""

XML_PARSER_FACTORIES: frozenset[str] = _names(
    "xml.sax.make_parser lxml.etree.XMLParser xml.etree.ElementTree.XMLParser"
)
XML_SAFE_PARSERS: frozenset[str] = _names("lxml.etree.HTMLParser lxml.html.HTMLParser")

LOG_METHODS: dict[str, int] = {
    **{name: 0 for name in ("debug", "info", "warning", "warn", "error", "exception", "critical", "fatal")},
    "log": 1,
}
"""Logger methods and the index of their message argument."""

REGEX_MODULES: frozenset[str] = _names("re regex")
REGEX_FUNCTIONS: frozenset[str] = _names("compile match search fullmatch findall finditer sub subn split")
"""The pattern (first argument) of these is compiled: from a client it is a ReDoS and a matching bypass."""

LOGGER_FACTORIES: frozenset[str] = _names("getLogger get_logger getChild bind get_task_logger")
"""``audit = logging.getLogger("audit")``: calls that make a logger."""

LOG_SAFE_CONVERSIONS: frozenset[str] = frozenset("rdifeEgGxXoc")
"""``%r`` escapes newlines, numeric conversions cannot carry them."""
