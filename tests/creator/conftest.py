"""The disputes' cast (two creators, a moderator) for the creator's-side tests,
each test running inside an application context."""

import pytest

from tests.disputes.conftest import Cast, cast, two_pictures  # noqa: F401


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():
        yield
