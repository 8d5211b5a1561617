"""Settings shared by the whole test suite."""

import os

from hypothesis import HealthCheck, settings

# CI replays the same examples every run (a property failing there is a bug found by a
# developer's run first); developers get fresh random examples each time.
settings.register_profile(
    "ci", derandomize=True, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
