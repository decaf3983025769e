"""Name tables the own AST rules match against: blocking calls, clients, locks, deserializers."""

from __future__ import annotations


def _names(names: str) -> frozenset[str]:
    return frozenset(names.split())


HTTP_METHODS: frozenset[str] = _names("get post put patch delete head options request stream send")

ROUTE_DECORATORS: frozenset[str] = _names("get post put patch delete head options trace api_route websocket")

NETWORK_PREFIXES: tuple[str, ...] = ("requests.", "httpx.", "aiohttp.", "urllib.", "urllib3.")

TASK_SPAWNERS: frozenset[str] = _names("asyncio.create_task asyncio.ensure_future")
LOOP_GETTERS: frozenset[str] = _names("asyncio.get_running_loop asyncio.get_event_loop asyncio.new_event_loop")

THREAD_LOCK_CTORS: frozenset[str] = _names(
    "threading.Lock threading.RLock threading.Condition threading.Semaphore "
    "threading.BoundedSemaphore multiprocessing.Lock multiprocessing.RLock"
)
ASYNC_LOCK_CTORS: frozenset[str] = _names(
    "asyncio.Lock asyncio.Semaphore asyncio.BoundedSemaphore asyncio.Condition anyio.Lock "
    "anyio.Semaphore anyio.Condition trio.Lock trio.Semaphore"
)

MUTABLE_CTORS: frozenset[str] = _names(
    "dict list set bytearray collections.defaultdict collections.OrderedDict "
    "collections.Counter collections.deque weakref.WeakValueDictionary "
    "weakref.WeakKeyDictionary weakref.WeakSet"
)
MUTATING_METHODS: frozenset[str] = _names(
    "append extend insert pop popitem remove clear update setdefault add discard appendleft "
    "extendleft popleft sort reverse __setitem__ __delitem__ move_to_end"
)

# Clients whose lifecycle matters: each owns a connection pool that must be closed.
CLIENT_CTORS: frozenset[str] = _names(
    "httpx.AsyncClient httpx.Client aiohttp.ClientSession requests.Session requests.session"
)

# Synchronous clients: calling their methods inside a coroutine blocks the event loop.
SYNC_CLIENTS: frozenset[str] = _names(
    "requests.Session requests.session httpx.Client sqlite3.connect psycopg2.connect "
    "psycopg.connect psycopg.Connection.connect pymysql.connect MySQLdb.connect "
    "mysql.connector.connect redis.Redis redis.StrictRedis redis.from_url "
    "redis.Redis.from_url pymongo.MongoClient boto3.client boto3.resource boto3.Session "
    "smtplib.SMTP smtplib.SMTP_SSL ftplib.FTP urllib3.PoolManager sqlalchemy.create_engine "
    "kafka.KafkaProducer kafka.KafkaConsumer confluent_kafka.Producer "
    "confluent_kafka.Consumer elasticsearch.Elasticsearch"
)
SYNC_CLIENT_METHODS: frozenset[str] = HTTP_METHODS | _names(
    "execute executemany executescript fetchone fetchall fetchmany commit rollback connect "
    "cursor_execute query scalar scalars find find_one insert_one insert_many update_one "
    "update_many delete_one delete_many replace_one aggregate count_documents set setex hget "
    "hset hgetall incr decr expire publish lpush rpush lpop rpop blpop brpop mget mset keys "
    "scan get_object put_object upload_file download_file upload_fileobj download_fileobj "
    "list_objects_v2 invoke send_message receive_message sendmail login flush poll produce "
    "search index urlopen retrbinary storbinary"
)

_BLOCKING_HTTP = "is a synchronous HTTP call"
_BLOCKING_DB = "opens a synchronous database connection"
_BLOCKING_PROC = "waits for a subprocess synchronously"
_BLOCKING_FILE = "is synchronous file I/O"
_BLOCKING_NET = "is a blocking network call"
_BLOCKING_LOAD = "reads a whole file synchronously"


def _table(names: str, what: str) -> dict[str, str]:
    return {name: f"`{name}` {what}" for name in names.split()}


BLOCKING_CALLS: dict[str, str] = {
    "time.sleep": "`time.sleep` blocks the thread",
    **_table(
        "requests.get requests.post requests.put requests.patch requests.delete requests.head "
        "requests.options requests.request httpx.get httpx.post httpx.put httpx.patch httpx.delete "
        "httpx.head httpx.options httpx.request httpx.stream urllib.request.urlopen "
        "urllib.request.urlretrieve urllib3.request",
        _BLOCKING_HTTP,
    ),
    **_table(
        "sqlite3.connect psycopg2.connect psycopg.connect pymysql.connect MySQLdb.connect "
        "mysql.connector.connect cx_Oracle.connect oracledb.connect",
        _BLOCKING_DB,
    ),
    **_table(
        "subprocess.run subprocess.call subprocess.check_call subprocess.check_output "
        "subprocess.getoutput subprocess.getstatusoutput subprocess.Popen os.system os.popen "
        "os.wait os.waitpid",
        _BLOCKING_PROC,
    ),
    **_table(
        "open io.open codecs.open shutil.copy shutil.copy2 shutil.copyfile shutil.copytree "
        "shutil.rmtree shutil.move shutil.make_archive shutil.unpack_archive",
        _BLOCKING_FILE,
    ),
    **_table(
        "socket.create_connection socket.getaddrinfo socket.gethostbyname smtplib.SMTP smtplib.SMTP_SSL ftplib.FTP",
        _BLOCKING_NET,
    ),
    **_table(
        "torch.load joblib.load numpy.load pandas.read_csv pandas.read_parquet pandas.read_json "
        "pandas.read_excel pandas.read_pickle pandas.read_sql",
        _BLOCKING_LOAD,
    ),
}

JWT_DECODERS: frozenset[str] = _names("jwt.decode jwt.api_jwt.decode jose.jwt.decode")

UNSAFE_DESERIALIZERS: frozenset[str] = _names(
    "pickle.load pickle.loads pickle.Unpickler cPickle.load cPickle.loads _pickle.load "
    "_pickle.loads dill.load dill.loads cloudpickle.load cloudpickle.loads joblib.load "
    "pandas.read_pickle shelve.open marshal.load marshal.loads jsonpickle.decode "
    "yaml.unsafe_load yaml.unsafe_load_all"
)
SAFE_YAML_LOADERS: frozenset[str] = _names("SafeLoader CSafeLoader BaseLoader CBaseLoader")
