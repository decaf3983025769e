# archbot's container image: the GitHub App server (`archbot serve`: webhook receiver + worker).
#
# Stage 1 builds a virtualenv with exactly the versions in constraints.txt; the runtime stage gets
# only that virtualenv (no pip cache, no build tools, no sources), runs as an unprivileged user, keeps
# its SQLite store in /var/lib/archbot (mount a volume there) and checks GET /healthz.
#
#   docker build -t archbot .
#   docker run -p 8000:8000 -v archbot-data:/var/lib/archbot \
#     -e GITHUB_APP_ID -e GITHUB_PRIVATE_KEY -e GITHUB_WEBHOOK_SECRET -e ANTHROPIC_API_KEY archbot

ARG PYTHON_IMAGE=python:3.11.17-slim-trixie

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_NO_INPUT=1
WORKDIR /src
RUN python -m venv /opt/archbot
COPY pyproject.toml README.md constraints.txt ./
COPY prompts ./prompts
COPY app ./app
RUN /opt/archbot/bin/python -m pip install --no-cache-dir -c constraints.txt . \
    && /opt/archbot/bin/archbot --help > /dev/null

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/archbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ARCHBOT_DATABASE_URL=sqlite:////var/lib/archbot/archbot.db
RUN groupadd --system --gid 10001 archbot \
    && useradd --system --no-log-init --uid 10001 --gid archbot --home-dir /var/lib/archbot --create-home \
       --shell /usr/sbin/nologin archbot
COPY --from=build /opt/archbot /opt/archbot
USER 10001:10001
WORKDIR /var/lib/archbot
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
CMD ["archbot", "serve", "--host", "0.0.0.0", "--port", "8000"]
