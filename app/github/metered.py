"""An httpx transport that measures every GitHub request on the wire: latency by method, route template
and status, and the remaining rate-limit quota GitHub reports. It sees no body and labels no URL."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from app.github.routes import route_template

if TYPE_CHECKING:
    from app.metrics import Metrics


class MeteredTransport(httpx.AsyncBaseTransport):
    """Wraps ``inner``; observes each request in ``metrics`` (transport errors count as status ``error``)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, metrics: Metrics, *, api_url: str = "") -> None:
        self._inner = inner
        self._metrics = metrics
        self._prefix = urlsplit(api_url).path.rstrip("/")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        from app.metrics import rate_resource_label

        route = route_template(str(request.url), api_prefix=self._prefix)
        method = request.method if request.method in {"GET", "POST", "PATCH", "PUT", "DELETE"} else "other"
        started = time.perf_counter()
        status = "error"
        attributes = {"http.request.method": method, "http.route": route}
        with self._metrics.tracer.span(f"GitHub {method} {route}", attributes) as span:
            try:
                response = await self._inner.handle_async_request(request)
                status = str(response.status_code)
                remaining = response.headers.get("x-ratelimit-remaining")
                if remaining is not None and remaining.isdigit():
                    resource = rate_resource_label(response.headers.get("x-ratelimit-resource", "core"))
                    self._metrics.github_quota_remaining.labels(resource=resource).set(int(remaining))
                span.set(**{"http.response.status_code": response.status_code})
                return response
            finally:
                elapsed = time.perf_counter() - started
                self._metrics.github_requests.labels(method=method, route=route, status=status).observe(elapsed)

    async def aclose(self) -> None:
        await self._inner.aclose()
