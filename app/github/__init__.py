"""The only code that talks to GitHub: client factory, per-repository API, pacing, errors, models.

Import from the submodules (``app.github.client``, ``.api``, ``.errors``, ``.models``, ``.pacing``):
this package re-exports nothing, so importing the plain data types of :mod:`app.github.models` does
not load githubkit.
"""
