"""archbot: a GitHub App, Action and CLI that reviews code and design docs like a senior architect."""

__version__ = "0.1.0"
