"""Build and serve on a Ray cluster (the optional `reportqa[ray]` extra); nothing here is imported by the
embedded engine."""

import os

# Read by Ray when it is imported. Without the first, Ray rewrites 127.0.0.1 in a cluster address to this
# machine's outward address, where a loopback cluster does not listen, and retries for ~14 minutes.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
