"""Token checks in an API gateway: PyJWT options held in variables, python-jose, authlib instances, issuing."""

import os

import jwt
from authlib.jose import JsonWebToken
from jose import jws
from jose import jwt as jose_jwt

PUBLIC_KEY = os.environ["JWT_PUBLIC_KEY"]
NO_VERIFY = {"verify_signature": False}
STRICT = {"require": ["exp", "iat", "sub"]}
trusted = JsonWebToken(["RS256"])
permissive = JsonWebToken(["RS256", "none"])  # expect: jwt-unverified


def gateway_claims(token: str) -> dict:
    return jwt.decode(token, PUBLIC_KEY, algorithms=["RS256"], options=NO_VERIFY)  # expect: jwt-unverified


def gateway_claims_strict(token: str) -> dict:
    return jwt.decode(token, PUBLIC_KEY, algorithms=["RS256"], options=STRICT)  # ok: jwt-unverified


def tenant_of(token: str) -> str:
    unverified = jwt.decode(token, options={"verify_signature": False})  # ok: jwt-unverified
    key = os.environ[f"JWT_KEY_{unverified['tid']}"]
    return jwt.decode(token, key, algorithms=["RS256"])["tid"]  # ok: jwt-unverified


def signed_payload(token: str) -> bytes:
    return jws.get_unverified_claims(token)  # expect: jwt-unverified


def signed_payload_verified(token: str) -> bytes:
    return jws.verify(token, PUBLIC_KEY, algorithms=["RS256"])  # ok: jwt-unverified


def jose_kid(token: str) -> str:
    return jose_jwt.get_unverified_header(token)["kid"]  # ok: jwt-unverified


def service_identity(token: str) -> dict:
    claims = trusted.decode(token, PUBLIC_KEY)  # expect: jwt-unverified
    return {"service": claims["sub"]}


def service_identity_validated(token: str) -> dict:
    claims = trusted.decode(token, PUBLIC_KEY)  # ok: jwt-unverified
    claims.validate()
    return {"service": claims["sub"]}


def empty_key_claims(token: str) -> dict:
    return jwt.decode(token, "", algorithms=["HS256"])  # expect: jwt-unverified


def unsigned_debug_token(user_id: str) -> str:
    return jwt.encode({"sub": user_id}, None, algorithm="none")  # expect: jwt-unverified


def signed_token(user_id: str) -> str:
    return jwt.encode({"sub": user_id}, os.environ["JWT_PRIVATE_KEY"], algorithm="RS256")  # ok: jwt-unverified
