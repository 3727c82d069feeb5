"""The dispute cast (two creators, a moderator, a stranger)."""

from tests.disputes.conftest import Cast, cast, two_pictures  # noqa: F401
