"""Django's Redis cache backend, with one Redis client per connection pool and a one-trip
``incr``.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` for every cache call, and that
constructor fills a table of about 170 response callbacks: ≈ 50 µs of CPU a call here, most of
what a GET to a local Redis costs. Here each backend keeps one per pool (Django gives every
thread a backend of its own; a ``redis.Redis`` would also be safe to share: each command
borrows a connection from the pool, and the pool starts over in a forked worker).

Django's ``incr`` asks ``EXISTS`` and then ``INCRBY``: two round trips, and a key that expires
between them comes back from ``INCRBY`` as a counter that never expires. Here one script does
both, atomically. The counters (the API's rate limit, login failures, the breaker) use it.
"""

from django.core.cache.backends import redis

# INCRBY only a key that exists (nil otherwise), so that it keeps its expiry.
_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
return false
"""


class _ReusedClientRedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._incr_existing = None

    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        if self._incr_existing is None:
            self._incr_existing = client.register_script(_INCR_EXISTING)
        value = self._incr_existing(keys=[key], args=[delta], client=client)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClientRedisCacheClient
