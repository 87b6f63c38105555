"""gunicorn settings for production: ``gunicorn karla_sidebar.wsgi`` reads this file.

Threaded workers, because a lookup mostly waits on GoKarla: a few processes (one per core)
with several threads each. Timeouts sit above the GoKarla deadline so a slow GoKarla gives the
agent an error card, not a killed worker. Every value can be overridden from the environment.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# Longer than GOKARLA_DEADLINE_SECONDS (10 s by default) plus our own work.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Settings are loaded once in the master and shared by forked workers.
preload_app = True
# Request lines go through Django's logging (launch tokens redacted); none from gunicorn.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
