"""Settings module of a Flask/Django-style service, with the mistakes people commit and the fixes."""

import os

from flask import Flask

app = Flask(__name__)

SECRET_KEY = "changeme"  # expect: hardcoded-secret
app.config["SECRET_KEY"] = "dev-secret-key"  # expect: hardcoded-secret
DJANGO_SECRET_KEY = "django-insecure-4k#n9v$w2@x!q7m&z0p^r3t8y5u1e6i"  # expect: hardcoded-secret
JWT_SECRET = "secret"  # expect: hardcoded-secret
DATABASE_URL = "postgresql://orders:Wq7vR2nXk9@db-primary.internal:5432/orders"  # expect: hardcoded-secret
STRIPE_SECRET_KEY = "sk_live_51Mz8QwLkT4vXb2RnP7sYc3HdJ6fGa9UeK0mNq"  # expect: hardcoded-secret
AWS_SECRET_ACCESS_KEY = "Zt4mQ8rWx2Nv6Kp0Lb9Hc3Fd7Gs1Jy5Ua8Ei2Ok4"  # expect: hardcoded-secret
SENDGRID_API_KEY = "SG.q2Wm8xR4vT6nK0pL.Yb3Hc9Fd1Gs7Jz5Ua2Ei8Ok4Rw6Tm0Vn3Xq9Pl1"  # expect: hardcoded-secret
ADMIN_PASSWORD = "admin123"  # expect: hardcoded-secret

SECRET_KEY_FROM_ENV = os.environ["SECRET_KEY"]  # ok: hardcoded-secret
DB_PASSWORD = os.environ.get("DB_PASSWORD", "")  # ok: hardcoded-secret
AWS_ACCESS_KEY_ID_DOCS = "AKIAIOSFODNN7EXAMPLE"  # ok: hardcoded-secret
AWS_SECRET_ACCESS_KEY_DOCS = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # ok: hardcoded-secret
TOKEN_URL = "https://auth.example.com/oauth/token"  # ok: hardcoded-secret
PASSWORD_RESET_PATH = "/account/password/reset"  # ok: hardcoded-secret
PASSWORD_FIELD = "password"  # ok: hardcoded-secret
API_KEY_HEADER = "X-API-Key"  # ok: hardcoded-secret
AUTH_HEADER_TEMPLATE = "Authorization: Bearer {secret_token}"  # ok: hardcoded-secret
DSN_TEMPLATE = "postgresql://${DB_USER}:${DB_PASSWORD}@${DB_HOST}:5432/app"  # ok: hardcoded-secret
LOGIN_FORM = "user=%(user)s&password=%(password)s"  # ok: hardcoded-secret
TOKEN_PLACEHOLDER = "<token>"  # ok: hardcoded-secret
EXAMPLE_DSN = "postgresql://user:pass@db.example.com:5432/app"  # ok: hardcoded-secret
SECRET_NAME = "prod/orders/db-password"  # ok: hardcoded-secret
TOKEN_TYPE = "bearer"  # ok: hardcoded-secret
