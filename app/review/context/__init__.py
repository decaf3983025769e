"""Repository context for a review chunk: the code around, below and above the change, under a budget.

Pure core (no I/O): :class:`RepoIndex` reads the head revision's texts through the callable it is
given; :func:`build_chunk_context` picks the excerpts; :class:`ChunkContext` renders them. See
docs/context.md.
"""

from app.review.context.builder import build_chunk_context, build_named_context
from app.review.context.model import ChunkContext, ContextItem
from app.review.context.resolve import RepoIndex

__all__ = ["ChunkContext", "ContextItem", "RepoIndex", "build_chunk_context", "build_named_context"]
