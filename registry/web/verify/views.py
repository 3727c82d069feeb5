"""/verify: anyone checks a registration or a certificate, step by step."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, request
from flask_babel import gettext as _

from registry.services import provenance, verification, works
from registry.web.utils import registry_settings
from registry.web.verify.forms import VerifyForm

bp = Blueprint("verify", __name__)


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    form = VerifyForm()
    checks, subject = None, None
    if request.method == "GET" and request.args.get("number"):  # the certificate's QR code
        form.number.data = request.args["number"]
        work = works.find_work(form.number.data)
        checks, subject = verification.verify_registration(work, None, registry_settings()), work
    elif form.validate_on_submit():
        original = form.original.data
        file_sha = verification.sha256_of(original.stream) if original else None
        if form.certificate.data:
            checks = verification.verify_certificate_pdf(
                form.certificate.data.read(), file_sha, registry_settings())
            subject = form.certificate.data.filename
        elif form.number.data:
            work = works.find_work(form.number.data)
            checks, subject = verification.verify_registration(work, file_sha,
                                                                 registry_settings()), work
        else:
            flash(_("Enter a registration number or choose a certificate file."), "error")
    status = 200 if checks is None or all(c.ok for c in checks) else 422
    return render_template("verify/verify.html", form=form, checks=checks,
                           subject=subject, c2pa_ca=provenance.ca_summary(registry_settings())), \
        status
