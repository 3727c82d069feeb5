"""Issue 12, item 12: ``flask users create`` accepted addresses such as ``@sec.test``
that the login form then rejects."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("address", ["@sec.test", "@sec.kz", "sec.kz", "a@", "a b@sec.kz",
                                     "a@@sec.kz", "a@sec"])
def test_users_create_refuses_what_login_refuses(runner, address):
    result = runner.invoke(args=["users", "create", address, "--password",
                                 "correct horse battery"])
    assert result.exit_code != 0
    assert "not a valid e-mail address" in result.output
    assert address not in runner.invoke(args=["users", "list"]).output


def test_a_created_account_can_log_in(runner, client):
    result = runner.invoke(args=["users", "create", "Admin@Sec.Kz", "--password",
                                 "correct horse battery", "--admin"])
    assert result.exit_code == 0, result.output
    response = client.post("/login", data={"email": "admin@sec.kz",
                                           "password": "correct horse battery"})
    assert response.status_code == 302
