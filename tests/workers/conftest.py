"""The compute and content apps of the service tests, for the runner's tests."""

from tests.services.compute.conftest import (  # noqa: F401 - fixtures
    alice,
    compute,
    compute_settings,
    content_http,
    worker,
)
