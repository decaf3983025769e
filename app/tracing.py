"""Optional OpenTelemetry tracing: one trace per delivery → job → GitHub and model calls.

On only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (``pip install archbot[otel]``); otherwise every
call here is a no-op and the SDK is never imported (start-up time). The trace crosses the queue: the
receiver stores a W3C ``traceparent`` carrier in the job (``Job.trace``) and the worker continues it.

Span attributes are identifiers only: delivery id, installation, repository, PR/issue number, job id
and kind, route templates, status codes, model id and token counts. Never a diff, a prompt, a body, a
URL or a token.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

Attributes = Mapping[str, str | int | float | bool | None]


class Span:
    """What instrumented code may do with a span: add identifiers (``None`` values are dropped)."""

    def __init__(self, inner: Any = None) -> None:
        self._inner = inner

    def set(self, **attributes: str | int | float | bool | None) -> None:
        if self._inner is not None:
            self._inner.set_attributes({k: v for k, v in attributes.items() if v is not None})

    def error(self, kind: str) -> None:
        """Mark the span failed with an error *kind* (a class name, never a message)."""
        if self._inner is not None:
            from opentelemetry.trace import Status, StatusCode

            self._inner.set_status(Status(StatusCode.ERROR, kind))
            self._inner.set_attribute("error.type", kind)


class Tracer:
    """No tracing: every span is a no-op (the default; nothing of OpenTelemetry is imported)."""

    enabled = False

    @contextlib.contextmanager
    def span(
        self, name: str, attributes: Attributes | None = None, *, parent: Mapping[str, str] | None = None
    ) -> Iterator[Span]:
        yield Span()

    def carrier(self) -> dict[str, str]:
        """The current span's context as W3C trace-context headers ({} when not tracing)."""
        return {}

    def shutdown(self) -> None:
        """Flush and stop the exporter (process exit)."""


class OtelTracer(Tracer):
    """Spans through an OpenTelemetry SDK ``TracerProvider`` of our own (never the global one)."""

    enabled = True

    def __init__(self, provider: TracerProvider) -> None:
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self._provider = provider
        self._tracer = provider.get_tracer("archbot")
        self._propagator = TraceContextTextMapPropagator()

    @contextlib.contextmanager
    def span(
        self, name: str, attributes: Attributes | None = None, *, parent: Mapping[str, str] | None = None
    ) -> Iterator[Span]:
        context = self._propagator.extract(dict(parent)) if parent else None
        clean = {k: v for k, v in (attributes or {}).items() if v is not None}
        with self._tracer.start_as_current_span(name, context=context, attributes=clean) as inner:
            yield Span(inner)

    def carrier(self) -> dict[str, str]:
        carrier: dict[str, str] = {}
        self._propagator.inject(carrier)
        return carrier

    def shutdown(self) -> None:
        self._provider.shutdown()


def sdk_tracer(exporter: SpanExporter, *, batch: bool = True) -> OtelTracer:
    """A tracer exporting to ``exporter`` (the OTLP exporter in production, an in-memory one in tests)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "archbot"}))
    provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
    return OtelTracer(provider)


def build_tracer(otlp_endpoint: str | None) -> Tracer:
    """OTLP/HTTP tracing when an endpoint is configured (the exporter reads the other ``OTEL_*``
    variables itself), else no tracing. Without the ``otel`` extra installed, a ``SettingsError``."""
    if not otlp_endpoint:
        return Tracer()
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        from app.settings import SettingsError  # exit 2 with this one line (app.cli)

        raise SettingsError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: pip install 'archbot[otel]'"
        ) from exc
    return sdk_tracer(OTLPSpanExporter())
