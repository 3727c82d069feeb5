"""PDF documents of the registry: certificates of registration and comparison reports.

Plain Python on reportlab and pypdf; fonts ship in ``fonts/``.
"""

from .certificate import PROOF_ATTACHMENT, QR_SIZE, QR_SIZE_COMPACT, Signer, render_certificate
from .facts import (
    Author,
    CertificateFacts,
    Checkpoint,
    LedgerFacts,
    WorkFile,
    ledger_facts_from_bundle,
    load_bundle,
)
from .i18n import DEFAULT_LANG, LANGUAGES, parse_lang
from .report import (
    AudioAlignment,
    ComparisonReport,
    Decision,
    ImageComparison,
    Party,
    ReportWork,
    TimelineEvent,
    render_comparison_report,
)

__all__ = [
    "AudioAlignment",
    "ComparisonReport",
    "Decision",
    "ImageComparison",
    "Party",
    "ReportWork",
    "TimelineEvent",
    "render_comparison_report",
    "DEFAULT_LANG",
    "LANGUAGES",
    "PROOF_ATTACHMENT",
    "QR_SIZE",
    "QR_SIZE_COMPACT",
    "Author",
    "CertificateFacts",
    "Checkpoint",
    "LedgerFacts",
    "Signer",
    "WorkFile",
    "ledger_facts_from_bundle",
    "load_bundle",
    "parse_lang",
    "render_certificate",
]
