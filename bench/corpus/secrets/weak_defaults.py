"""Service wiring with weak passwords and keys written into the code, next to the ways that keep them out."""

import hashlib
import hmac
import ldap
import os
import smtplib

import jwt
import paramiko
import psycopg2
import pymysql
import requests
from flask import Flask
from pydantic_settings import BaseSettings
from requests.auth import HTTPBasicAuth

app = Flask(__name__)
app.secret_key = "dev"  # expect: hardcoded-secret
app.config.update(SECRET_KEY=os.environ["FLASK_SECRET_KEY"])  # ok: hardcoded-secret
app.config.update(SESSION_COOKIE_NAME="session")  # ok: hardcoded-secret


class Settings(BaseSettings):
    database_password: str = ""  # ok: hardcoded-secret
    jwt_secret: str  # ok: hardcoded-secret


class Defaults:
    ADMIN_PASSWORD = "Passw0rd!"  # expect: hardcoded-secret
    PASSWORD_MIN_LENGTH = 12  # ok: hardcoded-secret
    PASSWORD_HASHER = "argon2"  # ok: hardcoded-secret


def reports_db():
    return pymysql.connect(host="reports.internal", user="reports", passwd="reports2023")  # expect: hardcoded-secret


def reports_db_env():
    return pymysql.connect(host="reports.internal", user="reports", passwd=os.environ["REPORTS_DB_PASSWORD"])  # ok: hardcoded-secret


def legacy_db():
    return psycopg2.connect("host=legacy.internal dbname=orders user=orders password=orders123")  # expect: hardcoded-secret


def legacy_db_env():
    return psycopg2.connect(f"host=legacy.internal dbname=orders user=orders password={os.environ['PGPASSWORD']}")  # ok: hardcoded-secret


def directory(user_dn: str):
    conn = ldap.initialize("ldaps://ldap.internal")
    conn.simple_bind_s("cn=svc-portal,ou=services,dc=corp", "p0rtal-svc")  # expect: hardcoded-secret
    return conn


def send_report(message: str) -> None:
    with smtplib.SMTP_SSL("smtp.partner.internal", 465, timeout=10) as smtp:
        smtp.login("reports@acme.internal", os.environ["PARTNER_SMTP_PASSWORD"])  # ok: hardcoded-secret
        smtp.sendmail("reports@acme.internal", ["ops@partner.internal"], message)


def jump_host() -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.connect("bastion.internal", username="deploy", password="deploy")  # expect: hardcoded-secret
    return client


def billing_status() -> dict:
    auth = HTTPBasicAuth("billing", "b1ll1ng-api")  # expect: hardcoded-secret
    return requests.get("https://billing.internal/status", auth=auth, timeout=5).json()


def billing_status_env() -> dict:
    auth = HTTPBasicAuth("billing", os.environ["BILLING_PASSWORD"])  # ok: hardcoded-secret
    return requests.get("https://billing.internal/status", auth=auth, timeout=5).json()


def inventory() -> dict:
    return requests.get("https://inventory.internal/v1/items", auth=("svc", "inventory!"), timeout=5).json()  # expect: hardcoded-secret


def sign_webhook(body: bytes) -> str:
    return hmac.new(b"webhook-secret", body, hashlib.sha256).hexdigest()  # expect: hardcoded-secret


def sign_webhook_env(body: bytes) -> str:
    return hmac.new(os.environ["WEBHOOK_SECRET"].encode(), body, hashlib.sha256).hexdigest()  # ok: hardcoded-secret


def issue_token(user_id: str) -> str:
    return jwt.encode({"sub": user_id}, "super-secret", algorithm="HS256")  # expect: hardcoded-secret


def issue_token_env(user_id: str) -> str:
    return jwt.encode({"sub": user_id}, os.environ["JWT_SIGNING_KEY"], algorithm="HS256")  # ok: hardcoded-secret


def signup_form_schema() -> dict:
    return {"username": "string", "password": "string", "password_confirm": "string"}  # ok: hardcoded-secret


def login_payload(user: str, password: str) -> dict:
    return {"username": user, "password": password}  # ok: hardcoded-secret


def prompt_labels() -> dict:
    return {"password": "Enter your password", "token": "Paste your access token"}  # ok: hardcoded-secret


def worker_password() -> str:
    return os.environ.get("WORKER_PASSWORD", "")  # ok: hardcoded-secret


def redact(settings: dict) -> dict:
    return {**settings, "password": "********"}  # ok: hardcoded-secret


def check(password: str) -> bool:
    return password != "password"  # ok: hardcoded-secret
