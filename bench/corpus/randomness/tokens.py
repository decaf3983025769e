"""Password resets, invitations, API keys, sampling and jitter."""

import hashlib
import random
import secrets
import string
import time
import uuid

import numpy as np

ALPHABET = string.ascii_letters + string.digits
UPSTREAMS = ["10.0.0.11:8000", "10.0.0.12:8000", "10.0.0.13:8000"]
TRACE_SAMPLE_RATE = 0.05
GREETINGS = ["Hello", "Welcome back", "Good to see you"]


def reset_token() -> str:
    return "".join(random.choice(ALPHABET) for _ in range(32))  # expect: insecure-random


def reset_token_secure() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(32))  # ok: insecure-random


def login_code() -> str:
    return f"{random.randint(0, 999999):06d}"  # expect: insecure-random


def login_code_secure() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"  # ok: insecure-random


def api_key() -> str:
    return "ak_%032x" % random.getrandbits(128)  # expect: insecure-random


def api_key_secure() -> str:
    return "ak_" + secrets.token_hex(16)  # ok: insecure-random


def session_id() -> str:
    return hashlib.sha256(str(random.random()).encode()).hexdigest()  # expect: insecure-random


def csrf_token() -> str:
    return hashlib.md5(str(time.time()).encode()).hexdigest()  # expect: insecure-random


def csrf_token_secure() -> str:
    return secrets.token_urlsafe(32)  # ok: insecure-random


def invite_code() -> str:
    return "".join(str(d) for d in np.random.randint(0, 10, size=8))  # expect: insecure-random


def reset_link(user_id: int) -> str:
    token = "".join(random.choices(ALPHABET, k=40))  # expect: insecure-random
    return f"https://app.example.com/reset?u={user_id}&t={token}"


def reset_link_sysrandom(user_id: int) -> str:
    token = "".join(random.SystemRandom().choices(ALPHABET, k=40))  # ok: insecure-random
    return f"https://app.example.com/reset?u={user_id}&t={token}"


def request_id() -> str:
    return uuid.uuid4().hex  # ok: insecure-random


def pick_upstream() -> str:
    return random.choice(UPSTREAMS)  # ok: insecure-random


def should_trace() -> bool:
    return random.random() < TRACE_SAMPLE_RATE  # ok: insecure-random


def backoff(attempt: int) -> float:
    return min(30.0, 2**attempt) * random.uniform(0.5, 1.5)  # ok: insecure-random


def shuffled_shards(shards: list[int]) -> list[int]:
    order = list(shards)
    random.shuffle(order)  # ok: insecure-random
    return order


def training_split(rows: list[dict], seed: int = 13) -> tuple[list[dict], list[dict]]:
    rng = np.random.default_rng(seed)  # ok: insecure-random
    mask = rng.random(len(rows)) < 0.8
    return [r for r, m in zip(rows, mask) if m], [r for r, m in zip(rows, mask) if not m]


def greeting() -> str:
    return random.choice(GREETINGS)  # ok: insecure-random
