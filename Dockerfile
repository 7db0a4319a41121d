# The webhook service (`python -m bot serve`) in a container, as an unprivileged user.
#   docker build -t threat-model-bot .
#   docker run -d --env-file .env -p 8080:8080 -v tmbot-state:/var/lib/threat-model-bot threat-model-bot
# Put TLS in front of it (GitHub delivers to an https URL); /health is for the platform's probe.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/threat-model-bot
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin bot \
 && mkdir -p /var/lib/threat-model-bot \
 && chown bot:bot /var/lib/threat-model-bot

# The inbox and the records live here (unless DATABASE_URL names a PostgreSQL): mount a volume, or they go with the container.
ENV BOT_STATE_DIR=/var/lib/threat-model-bot \
    PORT=8080
VOLUME ["/var/lib/threat-model-bot"]
WORKDIR /var/lib/threat-model-bot
USER bot:bot
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ['PORT'], timeout=4)"]
CMD ["python", "-m", "bot", "serve"]
