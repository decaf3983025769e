"""Flask API: session tokens read from a cookie, a refresh endpoint, and a Celery task with a token."""

import jwt
from celery import shared_task
from flask import Flask, abort, request

app = Flask(__name__)
app.config.from_prefixed_env()


@app.get("/profile")
def profile():
    claims = jwt.decode(request.cookies["session"], app.config["JWT_KEY"], algorithms=["HS256"], options={"verify_signature": False})  # expect: jwt-unverified
    return {"user": claims["sub"]}


@app.get("/profile/verified")
def profile_verified():
    claims = jwt.decode(request.cookies["session"], app.config["JWT_KEY"], algorithms=["HS256"])  # ok: jwt-unverified
    return {"user": claims["sub"]}


@app.post("/refresh")
def refresh():
    old = jwt.decode(request.json["token"], app.config["JWT_KEY"], algorithms=["HS256"], leeway=30)  # ok: jwt-unverified
    if old.get("typ") != "refresh":
        abort(401)
    return {"token": jwt.encode({"sub": old["sub"]}, app.config["JWT_KEY"], algorithm="HS256")}


@app.get("/debug/token")
def debug_token():
    header = jwt.get_unverified_header(request.args["token"])  # ok: jwt-unverified
    return {"alg": header.get("alg")}


@shared_task
def act_as(token: str, action: str) -> str:
    user = jwt.decode(token, algorithms=["none"], options={"verify_signature": False})["sub"]  # expect: jwt-unverified
    return f"{user}:{action}"
