"""Auth and payload handling for an internal ML feature API."""

import base64
import os
import pickle
import sqlite3
import subprocess

import jwt
import yaml
from fastapi import FastAPI, Header, HTTPException, Request

app = FastAPI()

JWT_PUBLIC_KEY = os.environ.get("JWT_PUBLIC_KEY", "")
GITHUB_TOKEN = "ghp_R8bQ2xVt5LmN7pWz3KcY9dHs4JfA6gUe1TqZ"  # expect: hardcoded-secret
AWS_ACCESS_KEY_ID = "AKIAZ7QW3ERT5YUI9OPL"  # expect: hardcoded-secret
DATABASE_URL = os.environ["DATABASE_URL"]


def current_user(authorization: str = Header(...)) -> dict:
    token = authorization.removeprefix("Bearer ")
    return jwt.decode(token, options={"verify_signature": False})  # expect: jwt-unverified


def current_user_verified(authorization: str = Header(...)) -> dict:
    token = authorization.removeprefix("Bearer ")
    try:
        return jwt.decode(token, JWT_PUBLIC_KEY, algorithms=["RS256"], audience="feature-api")
    except jwt.InvalidTokenError as exc:
        raise HTTPException(status_code=401, detail="invalid token") from exc


def peek_kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


@app.post("/features/import")
async def import_features(request: Request) -> dict:
    body = await request.body()
    features = pickle.loads(base64.b64decode(body))  # expect: unsafe-deserialization
    return {"count": len(features)}


@app.post("/pipelines")
async def create_pipeline(request: Request) -> dict:
    spec = yaml.load(await request.body(), Loader=yaml.Loader)  # expect: unsafe-deserialization
    return {"steps": len(spec["steps"])}


@app.post("/pipelines/safe")
async def create_pipeline_safe(request: Request) -> dict:
    spec = yaml.safe_load(await request.body())
    return {"steps": len(spec["steps"])}


def lookup_user(conn: sqlite3.Connection, name: str) -> list:
    return conn.execute(f"SELECT * FROM users WHERE name = '{name}'").fetchall()  # expect: sql-injection


def lookup_user_safe(conn: sqlite3.Connection, name: str) -> list:
    return conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchall()


def convert(filename: str) -> None:
    subprocess.run(f"convert {filename} out.png", shell=True, check=True)  # expect: command-injection


def evaluate_rule(expression: str, context: dict) -> bool:
    return bool(eval(expression, {}, context))  # expect: code-injection


def api_key() -> str:
    return os.environ["PARTNER_API_KEY"]
