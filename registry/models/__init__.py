"""ORM models, one module per aggregate.

Importing this package registers every table on the shared metadata, including
the core's index and ledger tables, so Alembic sees the whole schema.
"""

import registry.core.ledger.store  # noqa: F401  (ledger tables)
import registry.core.matching.audio_index  # noqa: F401  (audio index tables)
import registry.core.matching.image_index  # noqa: F401  (image index tables)
from registry.models.dispute import (  # disputes (issue 8)
    Dispute,
    DisputeEvent,
    DisputeEvidence,
    DisputeKind,
    DisputeStatus,
    Outcome,
)
from registry.models.job import Job, JobStatus
from registry.models.notification import Notification  # notifications (issue 8)
from registry.models.token import ApiToken
from registry.models.user import Role, User, UserSession
from registry.models.work import (
    AIUse,
    RegistrationCounter,
    Transfer,
    Visibility,
    Work,
    WorkAuthor,
    WorkFile,
    WorkMatch,
    WorkStatus,
    WorkType,
    WorkVersion,
)

__all__ = [
    "AIUse", "ApiToken", "Job", "JobStatus", "RegistrationCounter", "Role", "Transfer", "User",
    "UserSession", "Visibility", "Work", "WorkAuthor", "WorkFile", "WorkMatch", "WorkStatus",
    "WorkType", "WorkVersion", "migration_include_object",
    "Dispute", "DisputeEvent", "DisputeEvidence", "DisputeKind", "DisputeStatus", "Outcome",
    "Notification",
]

# Tables the migrations create by hand (full-text search shadow tables and the
# like) that have no model; autogenerate must not propose dropping them.
UNMODELLED_TABLE_PREFIXES = ("search_fts",)


def migration_include_object(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and reflected and compare_to is None:
        return not str(name).startswith(UNMODELLED_TABLE_PREFIXES)
    return True
