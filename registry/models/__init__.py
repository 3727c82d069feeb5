"""ORM models, one module per aggregate.

Importing this package registers every table on the shared metadata, including
the core's index and ledger tables, so Alembic sees the whole schema.
"""

import registry.core.ledger.attestations  # noqa: F401  (checkpoint attestation tables)
import registry.core.ledger.store  # noqa: F401  (ledger tables)
import registry.core.matching.audio_index  # noqa: F401  (audio index tables)
import registry.core.matching.feature_index  # noqa: F401  (local-feature index tables)
import registry.core.matching.image_index  # noqa: F401  (image index tables)
import registry.core.matching.pair_index  # noqa: F401  (audio peak-pair index table)
import registry.core.matching.peak_index  # noqa: F401  (audio peak-quad index tables)
import registry.core.matching.video_index  # noqa: F401  (video index tables)
from registry.models.coauthor import CoAuthorInvitation, InvitationStatus
from registry.models.collection import Collection, CollectionItem, CollectionKind
from registry.models.dispute import (
    Dispute,
    DisputeEvent,
    DisputeEvidence,
    DisputeKind,
    DisputeStatus,
    Outcome,
)
from registry.models.job import Job, JobStatus, PeriodicTask
from registry.models.notification import Notification
from registry.models.provenance import TrainingReservation, WorkProvenance
from registry.models.receipt import Receipt
from registry.models.state_filing import StateFiling
from registry.models.token import ApiToken
from registry.models.user import AuditEvent, Role, User, UserSession
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
    "AIUse", "ApiToken", "Job", "JobStatus", "PeriodicTask", "RegistrationCounter", "Role",
    "Transfer", "User",
    "UserSession", "Visibility", "Work", "WorkAuthor", "WorkFile", "WorkMatch", "WorkStatus",
    "WorkType", "WorkVersion", "migration_include_object",
    "Dispute", "DisputeEvent", "DisputeEvidence", "DisputeKind", "DisputeStatus", "Outcome",
    "Notification", "StateFiling", "CoAuthorInvitation", "InvitationStatus", "Collection",
    "CollectionItem", "CollectionKind", "AuditEvent", "TrainingReservation", "WorkProvenance",
    "Receipt",
]

# Tables the migrations create by hand (full-text search shadow tables and the
# like) that have no model; autogenerate must not propose dropping them.
UNMODELLED_TABLE_PREFIXES = ("search_fts",)


def migration_include_object(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and reflected and compare_to is None:
        return not str(name).startswith(UNMODELLED_TABLE_PREFIXES)
    return True
