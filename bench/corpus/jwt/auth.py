"""Bearer-token authentication with PyJWT, python-jose, authlib and python-jwt."""

from pathlib import Path

import jwt
import python_jwt
from authlib.jose import JsonWebKey
from authlib.jose import jwt as authlib_jwt
from fastapi import Depends, FastAPI, Header, HTTPException
from jose import jwt as jose_jwt
from jwcrypto import jwk

app = FastAPI()
SIGNING_KEY = Path("/run/secrets/jwt_public.pem").read_text()
AUDIENCE = "orders-api"
ISSUER_KEYS = {"https://auth.internal": SIGNING_KEY}


def bearer(authorization: str = Header()) -> str:
    return authorization.removeprefix("Bearer ")


def claims_unverified(token: str = Depends(bearer)) -> dict:
    return jwt.decode(token, options={"verify_signature": False})  # expect: jwt-unverified


def admin_claims_unverified(token: str = Depends(bearer)) -> dict:
    claims = jwt.decode(token, options={"verify_signature": False})  # expect: jwt-unverified
    if "admin" not in claims.get("roles", []):
        raise HTTPException(403)
    return claims


def claims_verified(token: str = Depends(bearer)) -> dict:
    return jwt.decode(token, SIGNING_KEY, algorithms=["RS256"], audience=AUDIENCE)  # ok: jwt-unverified


def claims_legacy(token: str = Depends(bearer)) -> dict:
    return jwt.decode(token, SIGNING_KEY, verify=False)  # expect: jwt-unverified


def claims_any_algorithm(token: str = Depends(bearer)) -> dict:
    return jwt.decode(token, SIGNING_KEY, algorithms=["RS256", "none"])  # expect: jwt-unverified


def claims_by_issuer(token: str = Depends(bearer)) -> dict:
    issuer = jwt.decode(token, options={"verify_signature": False})["iss"]  # ok: jwt-unverified
    if issuer not in ISSUER_KEYS:
        raise HTTPException(401)
    return jwt.decode(token, ISSUER_KEYS[issuer], algorithms=["RS256"], audience=AUDIENCE, issuer=issuer)  # ok: jwt-unverified


def key_id(token: str = Depends(bearer)) -> str:
    return jwt.get_unverified_header(token)["kid"]  # ok: jwt-unverified


def issue(user_id: str) -> str:
    return jwt.encode({"sub": user_id, "aud": AUDIENCE}, SIGNING_KEY, algorithm="RS256")  # ok: jwt-unverified


def jose_claims_unverified(token: str = Depends(bearer)) -> dict:
    return jose_jwt.get_unverified_claims(token)  # expect: jwt-unverified


def jose_claims_no_signature(token: str = Depends(bearer)) -> dict:
    return jose_jwt.decode(token, SIGNING_KEY, options={"verify_signature": False})  # expect: jwt-unverified


def jose_claims(token: str = Depends(bearer)) -> dict:
    return jose_jwt.decode(token, SIGNING_KEY, algorithms=["RS256"], audience=AUDIENCE)  # ok: jwt-unverified


def authlib_claims_unvalidated(token: str = Depends(bearer)) -> dict:
    claims = authlib_jwt.decode(token, JsonWebKey.import_key(SIGNING_KEY))  # expect: jwt-unverified
    return dict(claims)


def authlib_claims(token: str = Depends(bearer)) -> dict:
    claims = authlib_jwt.decode(token, JsonWebKey.import_key(SIGNING_KEY), claims_options={"aud": {"essential": True, "value": AUDIENCE}})  # ok: jwt-unverified
    claims.validate()
    return dict(claims)


def pyjwt_lib_unverified(token: str = Depends(bearer)) -> dict:
    _header, claims = python_jwt.process_jwt(token)  # expect: jwt-unverified
    return claims


def pyjwt_lib_verified(token: str = Depends(bearer)) -> dict:
    _header, claims = python_jwt.verify_jwt(token, jwk.JWK.from_pem(SIGNING_KEY.encode()), ["RS256"])  # ok: jwt-unverified
    return claims


@app.get("/me")
async def me(claims: dict = Depends(claims_verified)) -> dict:
    return {"sub": claims["sub"]}
