"""One-time passwords, session cookies, invitation links, salts, and random numbers that are not secrets."""

import hashlib
import random
import secrets
import string
import uuid

import numpy as np
from flask import Flask, make_response

app = Flask(__name__)
rng = random.Random()
DIGITS = string.digits
CHARS = string.ascii_letters + string.digits + "!@#$%"
RETRY_BASE_SECONDS = 0.2


class User:
    password_reset_token: str | None = None
    otp: str | None = None


def send_sms_code(user: User) -> str:
    user.otp = "".join(random.choice(DIGITS) for _ in range(6))  # expect: insecure-random
    return user.otp


def send_sms_code_secure(user: User) -> str:
    user.otp = "".join(secrets.choice(DIGITS) for _ in range(6))  # ok: insecure-random
    return user.otp


def generate_password(length: int = 16) -> str:
    return "".join(random.sample(CHARS, length))  # expect: insecure-random


def generate_password_secure(length: int = 16) -> str:
    return "".join(secrets.choice(CHARS) for _ in range(length))  # ok: insecure-random


def start_password_reset(user: User) -> None:
    user.password_reset_token = uuid.uuid1().hex  # expect: insecure-random


def start_password_reset_secure(user: User) -> None:
    user.password_reset_token = secrets.token_urlsafe(32)  # ok: insecure-random


@app.post("/login")
def login():
    response = make_response({"ok": True})
    response.set_cookie("session_id", str(random.getrandbits(64)))  # expect: insecure-random
    return response


@app.post("/login/secure")
def login_secure():
    response = make_response({"ok": True})
    response.set_cookie("session_id", secrets.token_hex(16), httponly=True, secure=True)  # ok: insecure-random
    return response


def hash_password(password: str) -> tuple[str, str]:
    salt = "%016x" % rng.getrandbits(64)  # expect: insecure-random
    return salt, hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 600_000).hex()


def hash_password_secure(password: str) -> tuple[str, str]:
    salt = secrets.token_hex(16)  # ok: insecure-random
    return salt, hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 600_000).hex()


def new_api_key(owner: str) -> dict[str, str]:
    return {"owner": owner, "api_key": "".join(np.random.choice(list(CHARS), 40))}  # expect: insecure-random


def retry_delay(attempt: int) -> float:
    return RETRY_BASE_SECONDS * 2**attempt + random.random() * 0.1  # ok: insecure-random


def token_budget(prompt_tokens: int) -> int:
    max_new_tokens = random.randint(16, 256)  # ok: insecure-random
    return min(max_new_tokens, 4096 - prompt_tokens)


def sample_tokens(vocab: list[str], n: int) -> list[str]:
    tokens = random.choices(vocab, k=n)  # ok: insecure-random
    return tokens


def ab_bucket(user_id: int) -> str:
    return "treatment" if random.random() < 0.5 else "control"  # ok: insecure-random


def pick_session_replica(replicas: list[str]) -> str:
    return random.choice(replicas)  # ok: insecure-random


def dropout_mask(size: int) -> np.ndarray:
    return np.random.rand(size) > 0.1  # ok: insecure-random
