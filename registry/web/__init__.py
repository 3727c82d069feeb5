"""Web blueprints, one package per feature (views + forms)."""

from flask import Flask


def init_blueprints(app: Flask) -> None:
    from registry.api import init_api
    from registry.web.auth.views import bp as auth_bp
    from registry.web.labels import template_globals
    from registry.web.lookup.views import bp as lookup_bp
    from registry.web.main.views import bp as main_bp
    from registry.web.public.views import bp as public_bp
    from registry.web.state_filing.views import bp as state_filing_bp
    from registry.web.tokens.views import bp as tokens_bp
    from registry.web.verify.views import bp as verify_bp
    from registry.web.works.views import bp as works_bp

    for blueprint in (main_bp, auth_bp, works_bp, public_bp, verify_bp, tokens_bp,
                      state_filing_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(lookup_bp)
    # disputes, moderation and notifications
    from registry.web.disputes.views import bp as disputes_bp
    from registry.web.moderation.views import bp as moderation_bp
    from registry.web.notifications.views import bp as notifications_bp
    from registry.web.notifications.views import unread_count
    from registry.web.reservations.views import bp as reservations_bp

    for blueprint in (disputes_bp, moderation_bp, notifications_bp, reservations_bp):
        app.register_blueprint(blueprint)
    app.jinja_env.globals["unread_notifications"] = unread_count
    from registry.services.disputes import (
        DISPUTE_STATUS_LABELS,
        OUTCOME_LABELS,
        disputes_of_work,
        withdrawn_by,
    )

    app.jinja_env.globals.update(disputes_of_work=disputes_of_work, dispute_withdrew=withdrawn_by,
                                 DISPUTE_OUTCOMES=OUTCOME_LABELS,
                                 DISPUTE_STATUSES=DISPUTE_STATUS_LABELS)
    _init_creator_side(app)
    # your data, creator pages and the trust pages
    from registry.web.account.views import bp as account_bp
    from registry.web.creators.views import bp as creators_bp
    from registry.web.trust.views import bp as trust_bp

    for blueprint in (account_bp, creators_bp, trust_bp):
        app.register_blueprint(blueprint)
    init_api(app)
    app.jinja_env.globals.update(template_globals())
    from registry.web.admin.views import bp as admin_bp

    app.register_blueprint(admin_bp)  # the audit trail


def _init_creator_side(app: Flask) -> None:
    """Co-authors who confirm and named collections."""
    from registry.services import collections
    from registry.services.coauthors import author_states
    from registry.web.coauthors.views import bp as coauthors_bp
    from registry.web.coauthors.views import invite_form
    from registry.web.collections.views import bp as collections_bp
    from registry.web.collections.views import collections_of_work

    app.register_blueprint(coauthors_bp)
    app.register_blueprint(collections_bp)
    app.jinja_env.globals.update(coauthor_states=author_states, coauthor_invite_form=invite_form,
                                 collections_of_work=collections_of_work,
                                 COLLECTION_KINDS=collections.KIND_LABELS)
