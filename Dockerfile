FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=cloudfreedom.settings.production

WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 make \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt requirements-dev.txt ./
# The image's interpreter is the "venv": the Makefile targets use $(VENV)/bin.
RUN python -m venv /app/.venv && /app/.venv/bin/pip install --no-cache-dir -r requirements.txt \
    && touch /app/.venv/.installed
COPY . .
# Hashed, gzip and Brotli copies of every static file, served by WhiteNoise from the image.
# Production settings demand the secrets to be set: dummies here, for this step only
# (the running container gets the real ones from its environment).
RUN DJANGO_SECRET_KEY=build API_KEY_HMAC_SECRET=build CREDENTIALS_ENCRYPTION_KEY=build \
    /app/.venv/bin/python manage.py collectstatic --noinput -v 0

EXPOSE 8000
CMD ["make", "web"]
