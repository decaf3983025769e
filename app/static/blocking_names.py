"""The catalogue of blocking calls (data only): what blocks an event loop, by kind, by qualified name.

``app.static.blocking_types`` reads it to decide whether a call in a coroutine blocks; the checks in
``app.static.blocking`` report what it finds (ARCH107/108/109 directly, ARCH115/118 through helpers).
Names are qualified through the module's imports (``import requests as r; r.get`` is ``requests.get``).

Three tables:

- ``FUNCTIONS``: callables that block when called (``requests.get``, ``subprocess.run``, ``open``).
- ``FACTORIES`` / ``CLASSES``: calls (and, for classes, annotations) that give an object of a tracked
  ``ObjectType`` (``requests.Session()``, ``sqlite3.connect()``, ``p: Path``); calling a blocking method
  on such an object blocks (``s.get()``, ``conn.execute()``, ``p.read_text()``).
- ``TYPES``: those object types, with their blocking methods and the types their methods, attributes
  and subscripts give (``conn.cursor()`` is a cursor, ``mongo["db"]["users"]`` a collection).

Severity depends on the kind (``Kind.steps_down``): network, database, SDK, subprocess, lock and model
loads keep the rule's severity; reading or writing a file is one step lower; a file-system metadata
call (``exists``, ``stat``, ``listdir``) two (never below low). A whole-file read of a small local file
is still blocking, so it is still reported, only with less weight than a network round trip.

Deliberately not in the catalogue: path arithmetic that at most makes a cheap syscall and is how
containment checks are written (``os.path.abspath/normpath/relpath/realpath/expanduser``,
``Path.resolve/absolute/expanduser``), ``os.read``/``os.write`` (used on non-blocking descriptors in
reader callbacks), in-memory files (``io.BytesIO``, ``io.StringIO``), ``time.sleep(0)``, and the async
variants (``httpx.AsyncClient``, ``redis.asyncio``, ``aioboto3``, ``motor``, ``asyncpg``, ``aiofiles``,
``anyio.Path``, ``trio``), which are simply absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Kind:
    """A kind of blocking work: how the finding says it, and how far below the rule's severity it sits."""

    name: str
    phrase: str
    steps_down: int = 0


HTTP = Kind("http", "is a synchronous HTTP call")
DB = Kind("db", "is a synchronous database or cache call")
SDK = Kind("sdk", "is a synchronous cloud SDK call (network I/O)")
NETWORK = Kind("network", "is a blocking network call")
BROKER = Kind("broker", "is a synchronous message-broker call")
SUBPROCESS = Kind("subprocess", "runs or waits for a subprocess synchronously")
FILE = Kind("file", "is synchronous file I/O", steps_down=1)
FS = Kind("fs", "is a synchronous file-system call", steps_down=2)
LOAD = Kind("load", "loads a model or a whole data file synchronously")
SLEEP = Kind("sleep", "blocks the thread")
# A plain lock is reported only where the module also holds it around blocking work (see blocking.py):
# waiting for a lock that guards a counter costs microseconds.
LOCK = Kind("lock", "is a blocking lock acquisition", steps_down=1)
WAIT = Kind("wait", "is a blocking wait on a thread, process or future")
INPUT = Kind("input", "waits for terminal input")
COMPUTE = Kind("compute", "runs model inference on the event loop thread")
HASHING = Kind("hashing", "is deliberately slow password hashing (CPU-bound, on the event loop thread)")

KINDS: Mapping[str, Kind] = MappingProxyType(
    {
        k.name: k
        for k in (
            HTTP,
            DB,
            SDK,
            NETWORK,
            BROKER,
            SUBPROCESS,
            FILE,
            FS,
            LOAD,
            SLEEP,
            LOCK,
            WAIT,
            INPUT,
            COMPUTE,
            HASHING,
        )
    }
)


def _names(names: str) -> frozenset[str]:
    return frozenset(names.split())


def _table(entries: Mapping[Kind, str]) -> Mapping[str, str]:
    return MappingProxyType({name: kind.name for kind, names in entries.items() for name in names.split()})


_HTTP_VERBS = "get post put patch delete head options request"

# ------------------------------------------------------------------------------------ functions

FUNCTIONS: Mapping[str, str] = _table(
    {
        HTTP: " ".join(f"requests.{v} requests.api.{v} httpx.{v}" for v in _HTTP_VERBS.split())
        + " httpx.stream urllib.request.urlopen urllib.request.urlretrieve urllib.urlopen urllib2.urlopen "
        "urllib3.request",
        DB: "sqlite3.connect psycopg2.connect psycopg.connect psycopg.Connection.connect pymysql.connect "
        "MySQLdb.connect mysql.connector.connect cx_Oracle.connect oracledb.connect pyodbc.connect "
        "snowflake.connector.connect duckdb.connect pandas.read_sql pandas.read_sql_query pandas.read_sql_table",
        SDK: "huggingface_hub.hf_hub_download huggingface_hub.snapshot_download huggingface_hub.login "
        "huggingface_hub.upload_file huggingface_hub.upload_folder huggingface_hub.list_models "
        "huggingface_hub.model_info",
        NETWORK: "socket.create_connection socket.getaddrinfo socket.gethostbyname socket.gethostbyname_ex "
        "socket.gethostbyaddr socket.getfqdn socket.getnameinfo ssl.get_server_certificate ssl.wrap_socket "
        "select.select",
        SUBPROCESS: "subprocess.run subprocess.call subprocess.check_call subprocess.check_output "
        "subprocess.getoutput subprocess.getstatusoutput subprocess.Popen os.system os.popen "
        "os.spawnl os.spawnle os.spawnlp os.spawnlpe os.spawnv os.spawnve os.spawnvp os.spawnvpe "
        "os.posix_spawn os.posix_spawnp os.wait os.wait3 os.wait4 os.waitid os.waitpid pty.spawn "
        "commands.getoutput commands.getstatusoutput",
        FILE: "open builtins.open io.open io.open_code codecs.open os.fdopen gzip.open bz2.open lzma.open "
        "shutil.copy shutil.copy2 shutil.copyfile shutil.copyfileobj shutil.copytree shutil.rmtree "
        "shutil.move shutil.make_archive shutil.unpack_archive json.load json.dump pickle.load pickle.dump "
        "marshal.load marshal.dump tomllib.load shelve.open dbm.open tempfile.NamedTemporaryFile "
        "tempfile.TemporaryFile tempfile.mkstemp tarfile.open zipfile.ZipFile",
        FS: "os.path.exists os.path.lexists os.path.isfile os.path.isdir os.path.islink os.path.ismount "
        "os.path.isjunction os.path.getsize os.path.getmtime os.path.getatime os.path.getctime "
        "os.path.samefile os.path.sameopenfile os.listdir os.scandir os.walk os.stat os.lstat os.remove "
        "os.unlink os.rename os.renames os.replace os.mkdir os.makedirs os.rmdir os.removedirs os.chmod "
        "os.chown os.link os.symlink os.readlink os.truncate os.utime os.access os.fsync os.statvfs "
        "shutil.disk_usage shutil.chown glob.glob glob.iglob tempfile.mkdtemp",
        LOAD: "torch.load torch.save joblib.load joblib.dump numpy.load numpy.loadtxt numpy.genfromtxt "
        "numpy.fromfile numpy.save numpy.savez numpy.savez_compressed numpy.savetxt pandas.read_csv "
        "pandas.read_parquet pandas.read_json pandas.read_excel pandas.read_pickle pandas.read_feather "
        "pandas.read_hdf pandas.read_table pandas.read_orc pandas.read_fwf pandas.read_xml pandas.read_html "
        "pandas.read_stata pandas.read_sas pandas.read_spss transformers.pipeline "
        "sentence_transformers.SentenceTransformer sentence_transformers.CrossEncoder datasets.load_dataset "
        "datasets.load_from_disk spacy.load keras.models.load_model tensorflow.keras.models.load_model "
        "tensorflow.saved_model.load onnxruntime.InferenceSession safetensors.torch.load_file "
        "safetensors.torch.save_file whisper.load_model timm.create_model open_clip.create_model_and_transforms "
        "gensim.models.KeyedVectors.load_word2vec_format",
        SLEEP: "time.sleep",
        WAIT: "concurrent.futures.wait concurrent.futures.as_completed",
        LOCK: "fcntl.flock fcntl.lockf",
        HASHING: "bcrypt.hashpw bcrypt.checkpw bcrypt.kdf hashlib.pbkdf2_hmac hashlib.scrypt "
        "werkzeug.security.generate_password_hash werkzeug.security.check_password_hash "
        "django.contrib.auth.hashers.make_password django.contrib.auth.hashers.check_password",
        INPUT: "input builtins.input getpass.getpass sys.stdin.read sys.stdin.readline sys.stdin.readlines",
    }
)

# A call named ``<prefix>...<suffix>`` blocks with this kind (``AutoModel.from_pretrained``).
SUFFIX_FUNCTIONS: tuple[tuple[str, str, str], ...] = tuple(
    (prefix, ".from_pretrained", LOAD.name)
    for prefix in ("transformers.", "diffusers.", "peft.", "optimum.", "sentence_transformers.", "auto_gptq.")
)

# Functions that block only when given arguments (a host to connect to).
BLOCKS_WITH_ARGS: frozenset[str] = _names(
    "smtplib.SMTP smtplib.SMTP_SSL smtplib.LMTP ftplib.FTP ftplib.FTP_TLS telnetlib.Telnet poplib.POP3 "
    "poplib.POP3_SSL imaplib.IMAP4 imaplib.IMAP4_SSL nntplib.NNTP"
)

# Types that a bounded constructor (``queue.Queue(maxsize=10)``) turns into another: ``put`` blocks too.
SIZED_VARIANTS: Mapping[str, str] = MappingProxyType({"queue.Queue": "queue.BoundedQueue"})

# ------------------------------------------------------------------------------- object types


@dataclass(frozen=True)
class ObjectType:
    """An object whose methods block (or give other tracked objects).

    ``blocking``: methods that block; ``all_block``: every method blocks except ``safe`` ones and
    those in ``returns`` that are builders (``returns`` entries not in ``blocking``). ``returns`` maps a
    method to the type of its result, ``attrs`` an attribute to its type; ``any_attr`` is the type of any
    other attribute (``mongo.db.users``), ``subscript`` the type of ``obj[...]``, ``enter`` the type that
    ``with obj as x`` binds (default: the same type). ``with_blocks``: ``with obj:`` itself waits (locks).
    """

    name: str
    kind: str
    label: str
    blocking: frozenset[str] = frozenset()
    all_block: bool = False
    safe: frozenset[str] = frozenset()
    returns: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    attrs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    any_attr: str | None = None
    subscript: str | None = None
    enter: str | None = None
    with_blocks: bool = False
    phrase: str | None = None  # overrides the kind's phrase (``is a blocking queue operation``)


def _t(
    name: str,
    kind: Kind,
    label: str,
    blocking: str = "",
    *,
    all_block: bool = False,
    safe: str = "",
    returns: dict[str, str] | None = None,
    attrs: dict[str, str] | None = None,
    any_attr: str | None = None,
    subscript: str | None = None,
    enter: str | None = None,
    with_blocks: bool = False,
    phrase: str | None = None,
) -> ObjectType:
    return ObjectType(
        name,
        kind.name,
        label,
        _names(blocking),
        all_block=all_block,
        safe=_names(safe),
        returns=MappingProxyType(returns or {}),
        attrs=MappingProxyType(attrs or {}),
        any_attr=any_attr,
        subscript=subscript,
        enter=enter,
        with_blocks=with_blocks,
        phrase=phrase,
    )


_HTTP_METHODS = _HTTP_VERBS + " send stream"
_SQL_CURSOR = "execute executemany executescript fetchone fetchall fetchmany callproc nextset scroll"
_SQL_CONNECTION = _SQL_CURSOR + " commit rollback backup iterdump"
_REDIS = (
    "get set setex setnx psetex getset getdel getex mget mset msetnx delete unlink exists expire expireat "
    "pexpire ttl pttl persist incr incrby incrbyfloat decr decrby append strlen keys scan scan_iter rename "
    "type hget hset hsetnx hmget hmset hgetall hdel hexists hincrby hkeys hvals hlen hscan lpush rpush lpop "
    "rpop blpop brpop brpoplpush lmove blmove lrange llen lindex lrem ltrim sadd srem smembers sismember "
    "smismember scard spop srandmember sscan zadd zrem zrange zrevrange zrangebyscore zscore zincrby zcard "
    "zrank zpopmin zpopmax bzpopmin zscan publish xadd xread xreadgroup xack xrange xlen xtrim xgroup_create "
    "eval evalsha script_load ping flushdb flushall info dbsize config_get config_set pfadd pfcount setbit "
    "getbit bitcount geoadd geosearch json lock_acquire execute watch multi"
)
_MONGO_COLLECTION = (
    "find find_one insert_one insert_many update_one update_many delete_one delete_many replace_one aggregate "
    "count_documents estimated_document_count distinct bulk_write create_index create_indexes drop_index "
    "drop find_one_and_update find_one_and_replace find_one_and_delete watch rename list_indexes index_information"
)
_FILE = "read read1 readall readline readlines readinto write writelines flush truncate seek close"
_PATH_IO = (
    "read_text read_bytes write_text write_bytes open exists is_file is_dir is_symlink is_mount is_socket "
    "is_fifo is_block_device is_char_device is_junction stat lstat mkdir rmdir unlink rename replace touch "
    "iterdir glob rglob walk samefile chmod lchmod owner group readlink symlink_to hardlink_to link_to copy "
    "copy_into move move_into"
)
# Django querysets: these run the query (the async API is ``aget``, ``acreate``, ...); the others chain.
_ORM_RUNS = (
    "get create get_or_create update_or_create bulk_create bulk_update count exists first last earliest latest "
    "aggregate delete update in_bulk iterator contains explain"
)
_ORM_CHAINS = (
    "all filter exclude order_by select_related prefetch_related annotate alias values values_list only defer "
    "using distinct reverse select_for_update none union intersection difference"
)
_PATH_PURE = "with_suffix with_name with_stem joinpath relative_to resolve absolute expanduser"

# fmt: off
_TYPES: tuple[ObjectType, ...] = (
    # HTTP
    _t("requests.Session", HTTP, "a `requests.Session`", _HTTP_METHODS),
    _t("httpx.Client", HTTP, "a synchronous `httpx.Client`", _HTTP_METHODS + " close"),
    _t("urllib3.PoolManager", HTTP, "a `urllib3` pool", "request urlopen request_encode_url request_encode_body",
       returns={"connection_from_url": "urllib3.PoolManager", "connection_from_host": "urllib3.PoolManager"}),
    _t("http.client.HTTPConnection", HTTP, "an `http.client` connection", "request getresponse connect send "
       "endheaders", returns={"getresponse": "http.response"}),
    _t("http.response", HTTP, "an HTTP response read from the socket", "read readline readlines readinto read1"),
    _t("urllib.request.OpenerDirector", HTTP, "a `urllib.request` opener", "open", returns={"open": "http.response"}),
    _t("xmlrpc.client.ServerProxy", HTTP, "an XML-RPC proxy", all_block=True, any_attr="xmlrpc.client.ServerProxy"),
    # databases and caches
    _t("dbapi.Connection", DB, "a synchronous database connection", _SQL_CONNECTION,
       returns={"cursor": "dbapi.Cursor", "execute": "dbapi.Cursor", "executemany": "dbapi.Cursor"}),
    _t("dbapi.Cursor", DB, "a synchronous database cursor", _SQL_CURSOR, returns={"execute": "dbapi.Cursor"}),
    _t("dbapi.Pool", DB, "a synchronous connection pool", "getconn", returns={"getconn": "dbapi.Connection"}),
    _t("redis.Redis", DB, "a synchronous `redis` client", _REDIS,
       returns={"pipeline": "redis.Pipeline", "lock": "redis.Lock", "pubsub": "redis.PubSub"}),
    _t("redis.Pipeline", DB, "a synchronous `redis` pipeline", "execute"),
    _t("redis.Lock", LOCK, "a `redis` lock", "acquire release extend", with_blocks=True),
    _t("redis.PubSub", DB, "a synchronous `redis` pub/sub", "subscribe psubscribe get_message listen"),
    _t("pymongo.MongoClient", DB, "a synchronous `pymongo` client", "list_database_names server_info "
       "drop_database start_session", returns={"get_database": "pymongo.Database",
       "get_default_database": "pymongo.Database"}, any_attr="pymongo.Database", subscript="pymongo.Database"),
    _t("pymongo.Database", DB, "a synchronous `pymongo` database", "command list_collection_names "
       "list_collections create_collection drop_collection", returns={"get_collection": "pymongo.Collection"},
       any_attr="pymongo.Collection", subscript="pymongo.Collection"),
    _t("pymongo.Collection", DB, "a synchronous `pymongo` collection", _MONGO_COLLECTION,
       any_attr="pymongo.Collection", subscript="pymongo.Collection"),
    _t("sqlalchemy.Engine", DB, "a synchronous SQLAlchemy engine", "connect begin execute raw_connection",
       returns={"connect": "sqlalchemy.Connection", "begin": "sqlalchemy.Connection"}),
    _t("sqlalchemy.Connection", DB, "a synchronous SQLAlchemy connection", "execute exec_driver_sql scalar "
       "scalars commit rollback", returns={"execute": "sqlalchemy.Result"}),
    _t("sqlalchemy.Result", DB, "a SQLAlchemy result", "", safe="all first one one_or_none scalar scalars "
       "fetchall fetchone"),
    _t("sqlalchemy.Session", DB, "a synchronous SQLAlchemy session", "execute scalar scalars commit flush "
       "rollback get refresh merge delete add_all bulk_save_objects connection",
       returns={"query": "sqlalchemy.Query"}),
    _t("sqlalchemy.Query", DB, "a SQLAlchemy query", "all first one one_or_none scalar count delete update get "
       "exists", returns={m: "sqlalchemy.Query" for m in _names("filter filter_by order_by join outerjoin limit offset "
       "options group_by having distinct where select_from with_entities")}),
    _t("sqlalchemy.sessionmaker", DB, "a SQLAlchemy session factory", ""),
    _t("elasticsearch.Elasticsearch", DB, "a synchronous Elasticsearch client", all_block=True,
       safe="options close", returns={"options": "elasticsearch.Elasticsearch"},
       any_attr="elasticsearch.Elasticsearch"),
    _t("cassandra.Cluster", DB, "a Cassandra cluster", "connect shutdown", returns={"connect": "cassandra.Session"}),
    _t("cassandra.Session", DB, "a Cassandra session", "execute prepare set_keyspace"),
    _t("neo4j.Driver", DB, "a synchronous Neo4j driver", "verify_connectivity execute_query",
       returns={"session": "neo4j.Session"}),
    _t("neo4j.Session", DB, "a synchronous Neo4j session", "run execute_read execute_write read_transaction "
       "write_transaction begin_transaction"),
    _t("clickhouse.Client", DB, "a synchronous ClickHouse client", "execute query command insert query_df "
       "execute_iter"),
    # cloud SDKs
    _t("boto3.Session", SDK, "a `boto3` session", "get_credentials",
       returns={"client": "boto3.client", "resource": "boto3.resource", "create_client": "boto3.client"}),
    _t("boto3.client", SDK, "a `boto3` client", all_block=True,
       safe="generate_presigned_url generate_presigned_post can_paginate close",
       returns={"get_paginator": "boto3.paginator", "get_waiter": "boto3.waiter"},
       attrs={"meta": "boto3.meta", "exceptions": "boto3.meta"}),
    _t("boto3.meta", SDK, "a `boto3` client's metadata", "", attrs={"client": "boto3.client"}),
    _t("boto3.paginator", SDK, "a `boto3` paginator", "paginate"),
    _t("boto3.waiter", SDK, "a `boto3` waiter", "wait"),
    _t("boto3.resource", SDK, "a `boto3` resource", "create_bucket create_table create_queue "
       "get_queue_by_name", attrs={"meta": "boto3.meta"}, any_attr="boto3.collection",
       returns={n: "boto3.object" for n in _names("Bucket Object Table Queue Instance Topic Subscription Role User "
       "Vpc Subnet SecurityGroup Image Volume Function")}),
    _t("boto3.object", SDK, "a `boto3` resource object", all_block=True,
       returns={n: "boto3.object" for n in _names("Object Bucket")}, any_attr="boto3.collection",
       safe="get_available_subresources"),
    _t("boto3.collection", SDK, "a `boto3` resource collection", "delete",
       returns={n: "boto3.collection" for n in _names("all filter limit page_size")}),
    _t("gcp.client", SDK, "a Google Cloud client", "query get_bucket", all_block=True,
       safe="close", returns={"bucket": "gcp.ref", "blob": "gcp.ref", "dataset": "gcp.ref", "table": "gcp.ref",
       "collection": "gcp.ref", "document": "gcp.ref", "batch": "gcp.ref", "query": "gcp.job",
       "publish": "concurrent.futures.Future", "get_bucket": "gcp.ref"}),
    _t("gcp.ref", SDK, "a Google Cloud resource", "download_as_bytes download_as_string download_as_text "
       "download_to_filename download_to_file upload_from_string upload_from_filename upload_from_file exists "
       "reload delete create get set update stream list_blobs patch make_public rewrite compose commit "
       "insert_rows get_blob", returns={n: "gcp.ref" for n in _names("bucket blob collection document table "
       "get_blob where order_by limit")}),
    _t("gcp.job", SDK, "a Google Cloud job", "result to_dataframe to_arrow"),
    _t("azure.client", SDK, "a synchronous Azure client", "download_blob", all_block=True, safe="close",
       returns={"download_blob": "azure.downloader", **{f"get_{n}_client": "azure.client" for n in
       _names("container blob queue share directory file database table secret key certificate")}}),
    _t("azure.downloader", SDK, "an Azure download stream", "readall readinto content_as_bytes content_as_text "
       "chunks"),
    _t("hvac.Client", SDK, "an `hvac` (Vault) client", all_block=True, any_attr="hvac.Client"),
    # other network clients
    _t("socket.socket", NETWORK, "a blocking socket", "connect connect_ex recv recv_into recvfrom recvfrom_into "
       "recvmsg send sendall sendto sendmsg sendfile accept", returns={"accept": "socket.socket",
       "makefile": "file"}),
    _t("ssl.SSLContext", NETWORK, "an SSL context", "wrap_socket", returns={"wrap_socket": "socket.socket"}),
    _t("smtplib.SMTP", NETWORK, "an SMTP connection", "connect login starttls ehlo helo sendmail send_message "
       "quit noop verify rset data mail rcpt"),
    _t("ftplib.FTP", NETWORK, "an FTP connection", all_block=True, safe="set_pasv set_debuglevel close"),
    _t("mail.client", NETWORK, "a mail or news connection", all_block=True, safe="close"),
    _t("paramiko.SSHClient", NETWORK, "a `paramiko` SSH client", "connect exec_command invoke_shell",
       returns={"open_sftp": "paramiko.SFTPClient"}, safe="set_missing_host_key_policy load_system_host_keys"),
    _t("paramiko.SFTPClient", NETWORK, "a `paramiko` SFTP session", all_block=True, safe="close",
       returns={"open": "file", "file": "file"}),
    _t("pika.BlockingConnection", BROKER, "a blocking RabbitMQ connection", "process_data_events sleep "
       "close", returns={"channel": "pika.Channel"}),
    _t("pika.Channel", BROKER, "a blocking RabbitMQ channel", all_block=True, safe="close"),
    _t("kafka.Producer", BROKER, "a synchronous Kafka producer", "send flush poll list_topics",
       returns={"send": "concurrent.futures.Future"}),
    _t("kafka.Consumer", BROKER, "a synchronous Kafka consumer", "poll consume commit list_topics subscribe "
       "committed position seek_to_beginning"),
    # processes, threads and sync primitives
    _t("subprocess.Popen", SUBPROCESS, "a `subprocess.Popen`", "wait communicate",
       attrs={"stdout": "file", "stderr": "file", "stdin": "file"}),
    _t("threading.Lock", LOCK, "a threading lock", "acquire", with_blocks=True),
    _t("threading.Semaphore", WAIT, "a threading semaphore", "acquire", with_blocks=True,
       phrase="is a blocking semaphore acquisition"),
    _t("threading.Condition", LOCK, "a threading condition", "acquire wait wait_for", with_blocks=True),
    _t("threading.Event", WAIT, "a `threading.Event`", "wait", phrase="is a blocking wait on a threading event"),
    _t("threading.Barrier", WAIT, "a `threading.Barrier`", "wait"),
    _t("threading.Thread", WAIT, "a thread", "join", phrase="is a blocking wait for a thread"),
    _t("queue.Queue", WAIT, "a `queue.Queue`", "get join", phrase="is a blocking queue operation"),
    _t("queue.BoundedQueue", WAIT, "a bounded `queue.Queue`", "get put join",
       phrase="is a blocking queue operation"),
    _t("concurrent.futures.Future", WAIT, "a `concurrent.futures.Future`", "result exception",
       phrase="is a blocking wait for a future"),
    _t("concurrent.futures.Executor", WAIT, "a thread or process pool", "shutdown map",
       returns={"submit": "concurrent.futures.Future"}),
    _t("multiprocessing.Process", WAIT, "a process", "join", phrase="is a blocking wait for a process"),
    _t("multiprocessing.Pool", WAIT, "a process pool", "map starmap apply join imap imap_unordered",
       returns={"apply_async": "multiprocessing.AsyncResult", "map_async": "multiprocessing.AsyncResult"}),
    _t("multiprocessing.AsyncResult", WAIT, "a pool result", "get wait"),
    _t("multiprocessing.Connection", WAIT, "a pipe end", "recv recv_bytes recv_bytes_into"),
    _t("filelock.FileLock", LOCK, "a file lock", "acquire", with_blocks=True),
    # files and paths
    _t("file", FILE, "a synchronous file object", _FILE),
    _t("password.hasher", HASHING, "a password hasher", "hash verify check_needs_rehash verify_and_update "
       "encrypt"),
    _t("django.queryset", DB, "a Django queryset (the ORM runs queries synchronously)", _ORM_RUNS,
       returns={m: "django.queryset" for m in _names(_ORM_CHAINS)}),
    _t("pathlib.Path", FS, "a `pathlib.Path`", _PATH_IO,
       returns={**{m: "pathlib.Path" for m in _names(_PATH_PURE)}, "open": "file"},
       attrs={"parent": "pathlib.Path"}),
    _t("memory", FILE, "an in-memory buffer", ""),
    _t("tempfile.dir", FS, "a temporary directory", "cleanup", enter=""),
    _t("archive", FILE, "an archive file", "extractall extract extractfile read write writestr getmembers "
       "getnames add addfile open testzip", returns={"extractfile": "file", "open": "file"}),
)
# fmt: on
TYPES: Mapping[str, ObjectType] = MappingProxyType({t.name: t for t in _TYPES})

# Methods whose kind differs from their type's: reading or writing a file through a ``Path``.
METHOD_KINDS: Mapping[tuple[str, str], str] = MappingProxyType(
    {("pathlib.Path", m): FILE.name for m in _names("read_text read_bytes write_text write_bytes open")}
)

# Per-type phrase for the methods that are not acquisitions, e.g. a condition's ``wait``.
METHOD_PHRASES: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("threading.Condition", "wait"): "is a blocking wait on a threading condition",
        ("threading.Condition", "wait_for"): "is a blocking wait on a threading condition",
        ("concurrent.futures.Executor", "shutdown"): "waits for the pool's work to finish",
        ("concurrent.futures.Executor", "map"): "waits for the pool's results",
    }
)

# fmt: off
# Classes: a call creates one, an annotation declares one.
CLASSES: Mapping[str, str] = MappingProxyType(
    {
        **{n: "requests.Session" for n in _names("requests.Session requests.session requests.sessions.Session")},
        "httpx.Client": "httpx.Client",
        **{n: "urllib3.PoolManager" for n in _names(
            "urllib3.PoolManager urllib3.ProxyManager urllib3.HTTPConnectionPool urllib3.HTTPSConnectionPool "
            "urllib3.connection_from_url urllib3.poolmanager.PoolManager urllib3.proxy_from_url")},
        **{n: "http.client.HTTPConnection" for n in _names("http.client.HTTPConnection http.client.HTTPSConnection")},
        "http.client.HTTPResponse": "http.response",
        "urllib.request.OpenerDirector": "urllib.request.OpenerDirector",
        **{n: "xmlrpc.client.ServerProxy" for n in _names("xmlrpc.client.ServerProxy xmlrpclib.ServerProxy")},
        **{n: "dbapi.Connection" for n in _names(
            "sqlite3.Connection psycopg2.extensions.connection psycopg.Connection pymysql.Connection "
            "pymysql.connections.Connection MySQLdb.Connection duckdb.DuckDBPyConnection")},
        **{n: "dbapi.Cursor" for n in _names(
            "sqlite3.Cursor psycopg2.extensions.cursor psycopg.Cursor pymysql.cursors.Cursor")},
        **{n: "dbapi.Pool" for n in _names(
            "psycopg2.pool.SimpleConnectionPool psycopg2.pool.ThreadedConnectionPool psycopg_pool.ConnectionPool")},
        **{n: "redis.Redis" for n in _names(
            "redis.Redis redis.StrictRedis redis.client.Redis redis.client.StrictRedis redis.RedisCluster "
            "redis.cluster.RedisCluster")},
        **{n: "pymongo.MongoClient" for n in _names("pymongo.MongoClient pymongo.mongo_client.MongoClient")},
        **{n: "pymongo.Database" for n in _names("pymongo.database.Database")},
        **{n: "pymongo.Collection" for n in _names("pymongo.collection.Collection")},
        **{n: "sqlalchemy.Engine" for n in _names("sqlalchemy.Engine sqlalchemy.engine.Engine")},
        **{n: "sqlalchemy.Connection" for n in _names("sqlalchemy.Connection sqlalchemy.engine.Connection")},
        **{n: "sqlalchemy.Session" for n in _names("sqlalchemy.orm.Session sqlalchemy.orm.session.Session "
                                                     "sqlmodel.Session")},
        "sqlalchemy.orm.sessionmaker": "sqlalchemy.sessionmaker",
        **{n: "elasticsearch.Elasticsearch" for n in _names("elasticsearch.Elasticsearch opensearchpy.OpenSearch")},
        "cassandra.cluster.Cluster": "cassandra.Cluster",
        "cassandra.cluster.Session": "cassandra.Session",
        "clickhouse_driver.Client": "clickhouse.Client",
        **{n: "boto3.Session" for n in _names("boto3.Session boto3.session.Session")},
        **{n: "hvac.Client" for n in _names("hvac.Client hvac.v1.Client")},
        "socket.socket": "socket.socket",
        "ssl.SSLContext": "ssl.SSLContext",
        **{n: "smtplib.SMTP" for n in _names("smtplib.SMTP smtplib.SMTP_SSL smtplib.LMTP")},
        **{n: "ftplib.FTP" for n in _names("ftplib.FTP ftplib.FTP_TLS")},
        **{n: "mail.client" for n in _names(
            "telnetlib.Telnet poplib.POP3 poplib.POP3_SSL imaplib.IMAP4 imaplib.IMAP4_SSL nntplib.NNTP")},
        "paramiko.SSHClient": "paramiko.SSHClient",
        "paramiko.SFTPClient": "paramiko.SFTPClient",
        **{n: "pika.BlockingConnection" for n in _names("pika.BlockingConnection")},
        **{n: "pika.Channel" for n in _names("pika.adapters.blocking_connection.BlockingChannel")},
        **{n: "kafka.Producer" for n in _names("kafka.KafkaProducer confluent_kafka.Producer")},
        **{n: "kafka.Consumer" for n in _names("kafka.KafkaConsumer confluent_kafka.Consumer")},
        "subprocess.Popen": "subprocess.Popen",
        **{n: "threading.Lock" for n in _names(
            "threading.Lock threading.RLock multiprocessing.Lock multiprocessing.RLock _thread.allocate_lock")},
        **{n: "threading.Semaphore" for n in _names(
            "threading.Semaphore threading.BoundedSemaphore multiprocessing.Semaphore "
            "multiprocessing.BoundedSemaphore")},
        **{n: "threading.Condition" for n in _names("threading.Condition multiprocessing.Condition")},
        **{n: "threading.Event" for n in _names("threading.Event multiprocessing.Event")},
        **{n: "threading.Barrier" for n in _names("threading.Barrier multiprocessing.Barrier")},
        **{n: "threading.Thread" for n in _names("threading.Thread threading.Timer")},
        **{n: "queue.Queue" for n in _names(
            "queue.Queue queue.LifoQueue queue.PriorityQueue queue.SimpleQueue multiprocessing.Queue "
            "multiprocessing.SimpleQueue multiprocessing.JoinableQueue")},
        "concurrent.futures.Future": "concurrent.futures.Future",
        **{n: "concurrent.futures.Executor" for n in _names(
            "concurrent.futures.ThreadPoolExecutor concurrent.futures.ProcessPoolExecutor "
            "concurrent.futures.Executor concurrent.futures.thread.ThreadPoolExecutor")},
        "multiprocessing.Process": "multiprocessing.Process",
        **{n: "multiprocessing.Pool" for n in _names("multiprocessing.Pool multiprocessing.pool.Pool "
                                                       "multiprocessing.pool.ThreadPool")},
        "multiprocessing.connection.Connection": "multiprocessing.Connection",
        **{n: "filelock.FileLock" for n in _names("filelock.FileLock filelock.SoftFileLock")},
        **{n: "file" for n in _names(
            "io.TextIOWrapper io.BufferedReader io.BufferedWriter io.BufferedRandom io.FileIO io.TextIOBase "
            "io.BufferedIOBase io.RawIOBase _io.TextIOWrapper _io.BufferedReader typing.IO typing.TextIO "
            "typing.BinaryIO tempfile._TemporaryFileWrapper")},
        **{n: "pathlib.Path" for n in _names("pathlib.Path pathlib.PosixPath pathlib.WindowsPath")},
        **{n: "archive" for n in _names("zipfile.ZipFile tarfile.TarFile")},
        **{n: "memory" for n in _names("io.BytesIO io.StringIO")},
        **{n: "password.hasher" for n in _names(
            "passlib.context.CryptContext argon2.PasswordHasher passlib.hash.bcrypt passlib.hash.argon2 "
            "passlib.hash.pbkdf2_sha256 pwdlib.PasswordHash")},
    }
)

# Factory functions (and class methods) that return a tracked object.
FACTORIES: Mapping[str, str] = MappingProxyType(
    {
        "urllib.request.urlopen": "http.response",
        **{n: "urllib.request.OpenerDirector" for n in _names("urllib.request.build_opener")},
        **{n: "dbapi.Connection" for n in _names(
            "sqlite3.connect psycopg2.connect psycopg.connect psycopg.Connection.connect pymysql.connect "
            "MySQLdb.connect mysql.connector.connect cx_Oracle.connect oracledb.connect pyodbc.connect "
            "snowflake.connector.connect duckdb.connect")},
        **{n: "redis.Redis" for n in _names(
            "redis.from_url redis.Redis.from_url redis.StrictRedis.from_url redis.client.Redis.from_url "
            "redis.sentinel.Sentinel.master_for")},
        **{n: "sqlalchemy.Engine" for n in _names("sqlalchemy.create_engine sqlalchemy.engine_from_config "
                                                    "sqlmodel.create_engine")},
        **{n: "boto3.client" for n in _names("boto3.client boto3.session.Session.client")},
        **{n: "boto3.Session" for n in _names("botocore.session.get_session botocore.session.Session")},
        "boto3.resource": "boto3.resource",
        "socket.create_connection": "socket.socket",
        "ssl.create_default_context": "ssl.SSLContext",
        "neo4j.GraphDatabase.driver": "neo4j.Driver",
        "clickhouse_connect.get_client": "clickhouse.Client",
        **{n: "file" for n in _names(
            "open builtins.open io.open codecs.open os.fdopen gzip.open bz2.open lzma.open "
            "tempfile.NamedTemporaryFile tempfile.TemporaryFile")},
        "tempfile.TemporaryDirectory": "tempfile.dir",
        **{n: "archive" for n in _names("tarfile.open zipfile.ZipFile")},
        "pathlib.Path.cwd": "pathlib.Path",
        "pathlib.Path.home": "pathlib.Path",
        "asyncio.run_coroutine_threadsafe": "concurrent.futures.Future",
    }
)

# fmt: on

# Class-name patterns for SDKs with many clients: ``google.cloud.storage.Client``, ``azure...BlobServiceClient``.
# (prefix, class-name suffix, type); a name containing one of ``ASYNC_MARKERS`` is an async client.
CLIENT_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("google.cloud.", "Client", "gcp.client"),
    ("azure.", "Client", "azure.client"),
    ("mypy_boto3_", "Client", "boto3.client"),
)
ASYNC_MARKERS: tuple[str, ...] = (".aio.", ".aio", "Async", ".asyncio.", "_async.")

# The synchronous HTTP clients (``names.SYNC_CLIENTS`` for the timeout and TLS checks).
HTTP_CLIENT_TYPES: frozenset[str] = frozenset({"requests.Session", "httpx.Client", "urllib3.PoolManager"})

# Async clients and objects: their methods are awaited; an un-awaited call on one is not a sync call
# (and must not be taken for one by the signature matches below).
ASYNC_CLASSES: frozenset[str] = _names(
    "httpx.AsyncClient aiohttp.ClientSession aiohttp.client.ClientSession redis.asyncio.Redis "
    "redis.asyncio.StrictRedis redis.asyncio.from_url redis.asyncio.client.Redis aioredis.Redis aioredis.from_url "
    "motor.motor_asyncio.AsyncIOMotorClient asyncpg.connect asyncpg.create_pool asyncpg.Connection asyncpg.Pool "
    "aiosqlite.connect aiosqlite.Connection aiomysql.connect aiomysql.create_pool aiopg.connect aiopg.create_pool "
    "psycopg.AsyncConnection psycopg.AsyncConnection.connect psycopg_pool.AsyncConnectionPool "
    "sqlalchemy.ext.asyncio.AsyncSession sqlalchemy.ext.asyncio.AsyncEngine sqlalchemy.ext.asyncio.create_async_engine "
    "sqlalchemy.ext.asyncio.async_sessionmaker elasticsearch.AsyncElasticsearch aioboto3.Session aiobotocore.session"
    ".get_session anyio.Path trio.Path aiofiles.open anyio.open_file trio.open_file aiokafka.AIOKafkaProducer "
    "aiokafka.AIOKafkaConsumer aio_pika.connect aio_pika.connect_robust asyncio.Queue asyncio.Event asyncio.Lock "
    "asyncio.Semaphore asyncio.Condition databases.Database"
)

# Django's ORM: ``Model.objects`` (``objects`` of a capitalised name) is a manager (``django.queryset``).
ORM_MANAGER = "objects"

# Entry coroutines (``asyncio.run(main())``): the program's own loop, often a script's; file, file-system,
# terminal and sleep calls there delay the program itself. Network and database calls are still reported.
ENTRY_RUNNERS: frozenset[str] = _names("asyncio.run anyio.run trio.run uvloop.run run_until_complete")
ENTRY_QUIET_KINDS: frozenset[str] = frozenset({FILE.name, FS.name, INPUT.name, SLEEP.name})

# Startup and shutdown hooks run before the server accepts requests (or after it stopped): blocking
# there delays startup, it stalls nobody. A coroutine is one when it is decorated with one of
# ``STARTUP_DECORATORS`` (``@app.on_event("startup")``: the event must be in ``STARTUP_EVENTS`` when given),
# named like a lifespan, or handed to a framework as one (``FastAPI(lifespan=f)``, ``on_startup=[f]``,
# ``app.on_startup.append(f)``).
STARTUP_DECORATORS: frozenset[str] = _names(
    "on_event listener before_server_start after_server_stop before_server_stop main_process_start "
    "main_process_stop on_startup on_shutdown"
)
STARTUP_EVENTS: frozenset[str] = _names(
    "startup shutdown before_server_start after_server_stop before_server_stop main_process_start main_process_stop"
)
STARTUP_KEYWORDS: frozenset[str] = _names("lifespan on_startup on_shutdown on_cleanup")
STARTUP_REGISTRIES: frozenset[str] = _names("on_startup on_shutdown on_cleanup cleanup_ctx")

# ------------------------------------------------------------------ signature matches (unknown receivers)

# ``x.request("GET", url)`` / ``x.urlopen("POST", url)``: urllib3's pool methods, matched by signature.
HTTP_SIGNATURE_METHODS: frozenset[str] = _names("request urlopen request_encode_url request_encode_body")
HTTP_METHOD_NAMES: frozenset[str] = _names("GET POST PUT PATCH DELETE HEAD OPTIONS")
# These names are urllib3's own: two positional arguments (method, url) are enough, whatever they are.
POOL_ONLY_METHODS: frozenset[str] = _names("urlopen request_encode_url request_encode_body")

# ``x.get_object(Bucket=..., Key=...)``: boto3 takes CamelCase keywords; these are distinctive enough.
SDK_KEYWORDS: frozenset[str] = _names(
    "Bucket SecretId QueueUrl TableName FunctionName TopicArn StreamName LogGroupName ReceiptHandle "
    "DeliveryStreamName StateMachineArn WithDecryption KeyConditionExpression MessageBody"
)

# ``cur.execute("SELECT ...")`` and ``cur.fetchall()`` not awaited: a DB-API cursor.
SQL_METHODS: frozenset[str] = _names("execute executemany executescript")
FETCH_METHODS: frozenset[str] = _names("fetchone fetchall fetchmany")
SQL_KEYWORDS: tuple[str, ...] = (
    "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "WITH", "REPLACE", "PRAGMA", "BEGIN",
    "COMMIT", "ROLLBACK", "TRUNCATE", "MERGE", "UPSERT", "VACUUM", "EXPLAIN", "SHOW", "GRANT", "LOCK",
)  # fmt: skip

# ``with torch.no_grad():`` in a coroutine: the calls inside are a model's forward pass, on the loop.
INFERENCE_CONTEXTS: frozenset[str] = _names("torch.no_grad torch.inference_mode")

# Keywords that make a wait on a sync primitive non-blocking: ``acquire(blocking=False)``,
# ``get(block=False)``, ``shutdown(wait=False)``; ``timeout=0`` likewise.
NONBLOCKING_FLAGS: frozenset[str] = _names("block blocking wait")
