"""Gunicorn settings for one Dialog app server behind nginx (deploy/nginx.conf).

    gunicorn -c deploy/gunicorn.conf.py wsgi:app

Command-line options win over this file (`-b 127.0.0.1:8002 -w 4`), so one file serves every
server. The BLOG_* settings come from the environment (deploy/dialog.service, docs/DEPLOYMENT.md).
"""
import multiprocessing
import os

# Where nginx reaches this server: loopback when nginx runs on the same machine, else the private
# address (never a public one: this port trusts the X-Forwarded-* headers, see forwarded_allow_ips).
bind = os.environ.get("DIALOG_BIND", "127.0.0.1:8001")

# Sync workers: one request at a time each, nginx buffers slow clients in front of them. A request
# mostly waits for PostgreSQL or Redis, so two per core plus one keeps the CPU busy; past a dozen a
# machine gains little and PostgreSQL pays: every worker holds a connection (two while its outbox
# drainer thread runs), so servers × workers × 2 must stay below PostgreSQL's max_connections.
worker_class = "sync"
workers = int(os.environ.get("DIALOG_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 12)))

# A request running longer than `timeout` seconds gets its worker killed and replaced (nginx's
# proxy_read_timeout is a little longer, so this acts first). On HUP or TERM a worker finishes its
# request within `graceful_timeout` before it is stopped.
timeout = 30
graceful_timeout = 30
keepalive = 2  # unused by sync workers (they close each connection); for a switch to gthread

# Workers are replaced after a few thousand requests (jittered, so not all at once): memory that a
# long-running process accumulates is given back, without anyone noticing.
max_requests = 2000
max_requests_jitter = 200

# The app loads in each worker, not once in the master: `kill -HUP <master>` then starts workers on
# the new code (a reload without dropping a request), and each worker opens its own database
# connections and outbox drainer thread.
preload_app = False

# Only nginx may tell gunicorn the original scheme (X-Forwarded-Proto): the addresses nginx
# connects from. The app reads the X-Forwarded-* headers itself as well (BLOG_PROXY_COUNT=1).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicorn 25.1+ opens a control socket for `gunicornc`, by default one path per user: two
# servers on one machine would take each other's. Unused here (signals and systemd do the job).
control_socket_disable = True

# The worker heartbeat in memory, not on a disk that may stall under load.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Logs to stdout/stderr: the journal (systemd) keeps them. nginx logs each request already.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("DIALOG_LOG_LEVEL", "info")
capture_output = True  # the app's print()s and warnings into the error log too
proc_name = "dialog"
