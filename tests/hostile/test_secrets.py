"""No credential reaches stderr: whatever a message holds (a URL with a password, a site's
error that echoes the request, a token field, a secret from the environment), the command
line's error line and log lines show it redacted (``errors.redact``, the one redaction)."""

from __future__ import annotations

import json
import logging
import string
from urllib.parse import quote, urlencode

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sora_vfx.cli.main import main
from sora_vfx.errors import ConfigError

PROPERTY = settings(max_examples=500, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
USERINFO = string.ascii_letters + string.digits + "-._~!$&'()*+,;=%"
log = logging.getLogger("sora_vfx")

REDACTED = "***"  # errors.REDACTED
#: Where a secret may sit in a message, written as each writer would (a URL's userinfo, a
#: site's JSON echo, a Python repr, a query string, a header, prose).
PLACES = [
    lambda s: f"cannot reach http://pipeline:{s}@kitsu.example:8080/api (log in)",
    lambda s: f"site said: https://{s}@studio.shotgrid.example/api3/json",
    lambda s: "site echoed " + json.dumps({"script_name": "sora_vfx", "script_key": s, "type": "Project"}),
    lambda s: f"bad answer to {({'password': s, 'email': 'a@b.example'})!r}",
    lambda s: "POST /auth/login?" + urlencode({"email": "a@b.example", "password": s, "next": 1}),
    lambda s: f"headers: Authorization: Bearer {s}",
    lambda s: f"token: {s} was refused",
    lambda s: f"access_token={s}",
    lambda s: f"SORA_VFX_SHOTGRID_KEY={s}",
]
#: What the command line prints around a message.
BOILERPLATE = ("sora-vfx: INFO: about to fail: sora-vfx: WARNING: sora-vfx: error: sora-vfx: internal error: "
               "RuntimeError: (this is a bug; run again with --debug for the traceback)")
#: Secrets that only the environment knows of: printed as they are, anywhere.
ENVIRONMENT = ["SORA_VFX_KITSU_PASSWORD", "SORA_VFX_SHOTGRID_KEY", "RENDERFARM_API_TOKEN", "STUDIO_SECRET"]


@pytest.fixture
def failing_command():
    """A ``sora-vfx leak`` command that logs its message at each level and then fails with it,
    as a SoraVfxError or (``--internal``) as a bug."""
    @click.command("leak")
    @click.argument("message")
    @click.option("--internal", is_flag=True)
    def leak(message: str, internal: bool) -> None:
        log.info("about to fail: %s", message)
        log.warning(message)
        if internal:
            raise RuntimeError(message)
        raise ConfigError(message)

    main.add_command(leak)
    yield lambda *args, **env: CliRunner().invoke(main, ["leak", *args], env=env)
    main.commands.pop("leak")


secrets = st.text(USERINFO, min_size=8, max_size=40).filter(lambda s: s.strip(string.digits + ".-"))


@PROPERTY
@given(secret=secrets, place=st.sampled_from(PLACES), internal=st.booleans())
def test_a_secret_in_a_message_never_reaches_stderr(failing_command, secret, place, internal):
    quoted = quote(secret, safe="")
    message = place(secret)
    around = place("") + BOILERPLATE
    assume(secret not in around and quoted not in around)
    result = failing_command(message, *(["--internal"] if internal else []))
    assert result.exit_code == (1 if internal else 2), result.output
    assert secret not in result.output and quoted not in result.output, result.output
    assert REDACTED in result.stderr
    assert len(result.stderr.splitlines()) == 3  # two log lines and the error


@settings(PROPERTY, max_examples=100)
@given(secret=secrets, place=st.sampled_from(PLACES), internal=st.booleans())
def test_a_secret_in_a_debug_traceback_never_reaches_stderr(failing_command, secret, place, internal):
    """``--debug`` prints the traceback, whose last line and quoted source hold the message."""
    quoted = quote(secret, safe="")
    assume(secret not in place("") + BOILERPLATE + "Traceback" and quoted not in place("") + BOILERPLATE)
    result = failing_command(place(secret), *(["--internal"] if internal else []), SORA_VFX_DEBUG="1")
    assert result.exit_code == (1 if internal else 2), result.output
    assert "Traceback (most recent call last):" in result.stderr
    assert ("RuntimeError: " if internal else "ConfigError: ") in result.stderr
    assert secret not in result.output and quoted not in result.output, result.output


@PROPERTY
@given(secret=st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Zs", "Zl", "Zp"]),
                      min_size=8, max_size=40),
       variable=st.sampled_from(ENVIRONMENT), form=st.sampled_from(["raw", "quoted", "json"]))
def test_a_secret_from_the_environment_never_reaches_stderr(failing_command, secret, variable, form):
    """However a site shows it (as it is, URL-quoted, JSON-escaped), wherever in the message."""
    shown = {"raw": secret, "quoted": quote(secret, safe=""), "json": json.dumps(secret)[1:-1]}[form]
    template = "cannot publish: the site answered 'unknown user {}' to our request"
    assume(secret not in template + BOILERPLATE and shown not in template + BOILERPLATE)
    result = failing_command(template.format(shown), **{variable: secret})
    assert result.exit_code == 2
    assert secret not in result.output and shown not in result.output, result.output


def test_redact_keeps_what_is_not_a_secret():
    from sora_vfx.errors import redact

    for text in ["ShotGrid at https://studio.shotgrid.example cannot be reached (find project P)",
                 "publishing to Kitsu needs SORA_VFX_KITSU_PASSWORD in the environment",
                 "check SORA_VFX_SHOTGRID_SCRIPT and SORA_VFX_SHOTGRID_KEY", "job_hash: 0123abcd, seed: 7",
                 "mail pipeline@example.com", "tokenizer: t5, secrets: none given"]:
        assert redact(text) == text
    assert redact("http://me:pw@host:9/api and http://host:9") == "http://***@host:9/api and http://host:9"
    assert redact("short known secrets are left: abc", ["abc"]) == "short known secrets are left: abc"
