"""Name tables the own AST rules match against: clients, locks, routes, deserializers (blocking calls:
``app.static.blocking_names``)."""

from __future__ import annotations

from app.static import blocking_names


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

# Synchronous HTTP clients (from the blocking catalogue): their calls' timeouts and TLS settings matter.
SYNC_CLIENTS: frozenset[str] = frozenset(
    name
    for name, kind in {**blocking_names.CLASSES, **blocking_names.FACTORIES}.items()
    if kind in blocking_names.HTTP_CLIENT_TYPES
)

JWT_DECODERS: frozenset[str] = _names("jwt.decode jwt.api_jwt.decode jose.jwt.decode")

UNSAFE_DESERIALIZERS: frozenset[str] = _names(
    "pickle.load pickle.loads pickle.Unpickler cPickle.load cPickle.loads _pickle.load "
    "_pickle.loads dill.load dill.loads cloudpickle.load cloudpickle.loads joblib.load "
    "pandas.read_pickle shelve.open marshal.load marshal.loads jsonpickle.decode "
    "yaml.unsafe_load yaml.unsafe_load_all"
)
SAFE_YAML_LOADERS: frozenset[str] = _names("SafeLoader CSafeLoader BaseLoader CBaseLoader")
