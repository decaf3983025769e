"""Client construction: databases, caches, SMTP, partner APIs, and credential checks."""

import getpass
import hmac
import os

import psycopg
import redis
import requests
import smtplib


def orders_db() -> psycopg.Connection:
    return psycopg.connect(host="db-primary.internal", user="orders", password="Wq7vR2nXk9")  # expect: hardcoded-secret


def orders_db_from_env() -> psycopg.Connection:
    return psycopg.connect(host="db-primary.internal", user="orders", password=os.environ["ORDERS_DB_PASSWORD"])  # ok: hardcoded-secret


def cache() -> redis.Redis:
    return redis.Redis(host="cache.internal", port=6379, password="r3d1s-Pr0d-2024")  # expect: hardcoded-secret


def cache_local() -> redis.Redis:
    return redis.Redis(host="localhost", port=6379, password=None)  # ok: hardcoded-secret


def mailer() -> smtplib.SMTP:
    server = smtplib.SMTP("smtp.internal", 587, timeout=10)
    server.login("noreply@shop.internal", "M4il-S3nd3r!")  # expect: hardcoded-secret
    return server


def mailer_interactive() -> smtplib.SMTP:
    server = smtplib.SMTP("smtp.internal", 587, timeout=10)
    server.login("noreply@shop.internal", getpass.getpass("SMTP password: "))  # ok: hardcoded-secret
    return server


def partner_profile(user_id: str) -> dict:
    headers = {"Authorization": "Bearer 7f3a9c2e5b8d1f4a6c0e9b2d5f8a1c4e"}  # expect: hardcoded-secret
    return requests.get(f"https://partner.internal/users/{user_id}", headers=headers, timeout=5).json()


def partner_profile_env(user_id: str) -> dict:
    headers = {"Authorization": f"Bearer {os.environ['PARTNER_TOKEN']}"}  # ok: hardcoded-secret
    return requests.get(f"https://partner.internal/users/{user_id}", headers=headers, timeout=5).json()


def connect_admin(user: str = "admin", password: str = "admin") -> requests.Session:  # expect: hardcoded-secret
    session = requests.Session()
    session.auth = (user, password)
    return session


def check_config(token: str, password: str) -> None:
    if token == "changeme":  # ok: hardcoded-secret
        raise ValueError("set ARCHBOT_TOKEN to a real token")
    if password == "":  # ok: hardcoded-secret
        raise ValueError("empty password")


def same_secret(given: str) -> bool:
    return hmac.compare_digest(given.encode(), os.environ["WEBHOOK_SECRET"].encode())  # ok: hardcoded-secret
