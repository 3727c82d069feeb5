"""Web blueprints, one package per feature (views + forms)."""

from flask import Flask


def init_blueprints(app: Flask) -> None:
    from registry.web.auth.views import bp as auth_bp
    from registry.web.main.views import bp as main_bp
    from registry.web.public.views import bp as public_bp
    from registry.web.tokens.views import bp as tokens_bp
    from registry.web.works.views import bp as works_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(works_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(tokens_bp)
    from registry.api import init_api

    init_api(app)
    from registry.web.labels import template_globals

    app.jinja_env.globals.update(template_globals())
