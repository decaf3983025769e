"""The status page's HTML: Jinja2 templates shipped in the package, autoescaped, no script, one stylesheet."""

from __future__ import annotations

from functools import cached_property
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from app.status.data import StatusView

STYLESHEET = "status.css"


class StatusRenderer:
    """Renders ``StatusView`` values; one per app (the template environment is built on first use)."""

    @cached_property
    def _env(self) -> Environment:
        return Environment(
            loader=PackageLoader("app.status", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def page(
        self, view: StatusView, *, login_enabled: bool, logged_in: bool, form_token: str, message: str = ""
    ) -> str:
        """The whole page for ``view`` (the private part only when ``view.private`` is set)."""
        template = self._env.get_template("page.html")
        return template.render(
            view=view, login_enabled=login_enabled, logged_in=logged_in, form_token=form_token, message=message
        )

    @cached_property
    def stylesheet(self) -> bytes:
        """The page's CSS (served at ``/status.css``: the CSP allows styles from 'self' only)."""
        return resources.files("app.status").joinpath("templates", STYLESHEET).read_bytes()
