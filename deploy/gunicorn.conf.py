"""gunicorn settings for microblog: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

One gevent worker per process: a Socket.IO client must talk to the process
that holds its session, so scale out with several gunicorn processes (one
port each) behind nginx with sticky routing, sharing Redis
(MICROBLOG_REDIS_URL) as the message queue.  One gevent worker holds
thousands of websockets.
"""

import os

bind = f"{os.environ.get('MICROBLOG_HOST', '127.0.0.1')}:{os.environ.get('MICROBLOG_PORT', '5000')}"
worker_class = "gevent"
workers = 1
worker_connections = int(os.environ.get("MICROBLOG_WORKER_CONNECTIONS", "4000"))
timeout = 60  # a websocket is not a stuck request: the gevent worker heartbeats on its own
graceful_timeout = 10
keepalive = 5
# Several gunicorns on one machine would share ~/.gunicorn/gunicorn.ctl: go without it.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
