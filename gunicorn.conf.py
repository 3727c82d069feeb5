"""gunicorn settings for production (``gunicorn -c gunicorn.conf.py app:app``).

Threaded workers: a slow client (an upload at modem speed) holds one thread, not a
whole worker, so 8 slow uploads leave the rest of the site answering at once
(``tests/faults/test_slow_clients.py``). Raise ``TAMGA_GUNICORN_THREADS`` if more
slow clients than that are expected, or put a buffering proxy (nginx with
``proxy_request_buffering on``, its default) in front.
"""

import os

bind = os.environ.get("TAMGA_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("TAMGA_GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("TAMGA_GUNICORN_THREADS", "16"))
timeout = 120
graceful_timeout = 30
