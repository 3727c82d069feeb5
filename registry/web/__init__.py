"""Web blueprints, one package per feature (views + forms)."""

from flask import Flask


def init_blueprints(app: Flask) -> None:
    from registry.api import init_api
    from registry.web.auth.views import bp as auth_bp
    from registry.web.labels import template_globals
    from registry.web.ledger.views import bp as ledger_bp
    from registry.web.lookup.views import bp as lookup_bp
    from registry.web.main.views import bp as main_bp
    from registry.web.public.views import bp as public_bp
    from registry.web.tokens.views import bp as tokens_bp
    from registry.web.verify.views import bp as verify_bp
    from registry.web.works.views import bp as works_bp

    for blueprint in (main_bp, auth_bp, works_bp, public_bp, ledger_bp, verify_bp, tokens_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(lookup_bp)
    # disputes, moderation and notifications (issue 8)
    from registry.web.disputes.views import bp as disputes_bp
    from registry.web.moderation.views import bp as moderation_bp
    from registry.web.notifications.views import bp as notifications_bp
    from registry.web.notifications.views import unread_count

    for blueprint in (disputes_bp, moderation_bp, notifications_bp):
        app.register_blueprint(blueprint)
    app.jinja_env.globals["unread_notifications"] = unread_count
    from registry.services.disputes import OUTCOME_LABELS, disputes_of_work

    app.jinja_env.globals.update(disputes_of_work=disputes_of_work,
                                 DISPUTE_OUTCOMES=OUTCOME_LABELS)
    init_api(app)
    app.jinja_env.globals.update(template_globals())
