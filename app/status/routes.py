"""The status page's routes on the App server: ``GET /``, ``POST /login``, ``POST /logout``, ``GET /status.css``.

Every answer carries a strict Content-Security-Policy (nothing but the stylesheet from 'self', no script,
no frames, forms post only here), ``X-Frame-Options: DENY``, ``nosniff``, a same-origin-only referrer
(with ``no-referrer`` a browser posts the login form with ``Origin: null``, which the CSRF check refuses)
and ``no-store``.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.status.auth import COOKIE_MAX_AGE, COOKIE_NAME, StatusAuth, same_origin
from app.status.collect import StatusSources, private_view, public_view
from app.status.render import StatusRenderer

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'none'; script-src 'none'; form-action 'self';"
    " frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
MAX_FORM_BYTES = 4096


def _secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


async def _form(request: Request) -> dict[str, str] | None:
    """A small urlencoded form, or None when it is too large or not a form."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        return None
    return {name: values[0] for name, values in fields.items() if values}


def add_status_routes(app: FastAPI, *, sources: StatusSources, auth: StatusAuth) -> None:
    """Register the status page on ``app``."""
    renderer = StatusRenderer()

    async def page(request: Request, *, status: int = 200, message: str = "", allowed: bool = False) -> Response:
        view = await (private_view(sources) if allowed else public_view(sources))
        if allowed and view.private is None:
            message = "The store is unreachable: the queue, jobs and spend cannot be shown."
        html = renderer.page(
            view, login_enabled=auth.enabled, logged_in=allowed, form_token=auth.form_token(), message=message
        )
        response = _secured(HTMLResponse(html, status_code=status))
        if status == 401 and request.headers.get("authorization"):
            response.headers["WWW-Authenticate"] = 'Bearer realm="archbot status"'
        return response

    async def status_page(request: Request) -> Response:
        if auth.allowed(request.headers, request.cookies):
            return await page(request, allowed=True)
        if request.headers.get("authorization"):
            return await page(request, status=401, message="Wrong status token.")
        return await page(request)

    def _refused(request: Request, form: dict[str, str] | None) -> bool:
        return (
            form is None
            or not same_origin(request.headers, request.headers.get("host", ""))
            or not auth.form_token_ok(form.get("csrf"))
        )

    async def login(request: Request) -> Response:
        form = await _form(request)
        if not auth.enabled:
            return await page(request, status=404, message="No status token is configured.")
        if form is None or _refused(request, form):
            return await page(request, status=403, message="The form expired or came from elsewhere; try again.")
        if not auth.token_ok(form.get("token")):
            return await page(request, status=401, message="Wrong status token.")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE_NAME,
            auth.session_value(),
            max_age=COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return _secured(response)

    async def logout(request: Request) -> Response:
        form = await _form(request)
        if _refused(request, form):
            return await page(request, status=403, message="The form expired or came from elsewhere; try again.")
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
        return _secured(response)

    async def stylesheet() -> Response:
        response = Response(renderer.stylesheet, media_type="text/css")
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    app.add_api_route("/", status_page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/login", login, methods=["POST"], include_in_schema=False)
    app.add_api_route("/logout", logout, methods=["POST"], include_in_schema=False)
    app.add_api_route("/status.css", stylesheet, methods=["GET"], include_in_schema=False)
