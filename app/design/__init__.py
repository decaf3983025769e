"""Design reviews and plans: design docs in PRs and issues, clarifying questions, implementation plans.

``engine`` asks the model (through the core's model protocol, :mod:`app.review.model_api`),
``models`` holds the tool schemas, ``render`` the Markdown, ``docs`` the design docs of a PR.
"""
