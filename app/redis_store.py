"""The optional Redis server (`REDIS_URL`), shared by every worker and app server that names it.

One client per process (redis-py pools its connections); keys are namespaced with `REDIS_PREFIX`
so several blogs, or the test-suite's many apps, can share one server. Without `REDIS_URL` the
app runs on its embedded stores (see docs/DEPLOYMENT.md) and `client()` is None.
"""
from flask import current_app

_clients: dict[str, object] = {}


def configured(config=None) -> bool:
    return bool((config or current_app.config).get("REDIS_URL"))


def client(config=None):
    """The `redis.Redis` client for the app's REDIS_URL, or None without one."""
    url = (config or current_app.config).get("REDIS_URL")
    if not url:
        return None
    found = _clients.get(url)
    if found is None:
        import redis

        # Short timeouts: a Redis that stops answering must slow a request by a fraction of a
        # second, not hang a worker.
        found = _clients[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5,
                                                     health_check_interval=30)
    return found


def key(*parts, config=None) -> str:
    """A key in this blog's namespace: `<REDIS_PREFIX>:<part>:<part>…`."""
    prefix = (config or current_app.config).get("REDIS_PREFIX") or "dialog"
    return ":".join([prefix, *map(str, parts)])
