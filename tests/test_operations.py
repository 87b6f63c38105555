"""What operators and admins run: settings checks, the karla CLI, key rotation, the demo seed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from encrypted_model_fields import fields as encrypted

from accounts.models import GoKarlaAccount, Membership, Workspace
from karla_sidebar import lookups
from karla_sidebar.gokarla import TokenUnreadable
from karla_sidebar.models import LookupRecord

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, python_flags: tuple[str, ...] = (), **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DJANGO_SETTINGS_MODULE", "DEBUG"}
    }
    return subprocess.run(
        [sys.executable, *python_flags, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**base, "KARLA_ENV_FILE": "", **env},
        timeout=60,
    )


# Settings


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY"])
def test_production_start_without_a_secret_stops_with_a_clear_message(missing):
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "x" * 50,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    del env[missing]
    result = manage("check", **env)
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr


def test_the_demo_profile_starts_without_warnings(tmp_path):
    """``make run`` checks the project on every start: a new user sees no warnings there."""
    database = str(tmp_path / "db.sqlite3")
    result = manage("check", "--database", "default", DEBUG="1", SQLITE_PATH=database)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stderr + result.stdout


def test_bad_boolean_is_refused_loudly():
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_env_file_is_read_and_real_environment_wins(tmp_path):
    env_file = tmp_path / "dev.env"
    env_file.write_text("DEBUG=1\nLOOKUP_CACHE_SECONDS=42\n")
    result = manage(
        "shell",
        "--verbosity",
        "0",
        "-c",
        "from django.conf import settings; print(settings.DEBUG, settings.LOOKUP_CACHE_SECONDS)",
        KARLA_ENV_FILE=str(env_file),
        LOOKUP_CACHE_SECONDS="7",
    )
    assert result.stdout.split() == ["True", "7.0"], result.stderr


# The karla CLI


def karla(*args):
    call_command("karla", *args, "--url", os.environ["TEST_SANDBOX_URL"], "--username", "demo-shop")


@pytest.fixture
def cli(sandbox_settings, monkeypatch, capsys):
    monkeypatch.setenv("KARLA_API_TOKEN", "karla-demo-token")
    monkeypatch.setenv("TEST_SANDBOX_URL", sandbox_settings.url)
    return capsys


def test_cli_prints_order_1001(cli):
    karla("order", "1001")
    order = json.loads(cli.readouterr().out)
    assert order["order_number"] == "1001" and order["status"] == "fulfilled"
    assert order["customer"]["name"] == "Jane Doe" and order["shipping_address"]["city"] == "Berlin"
    assert order["totals"]["total"] == {"amount": "151.95", "currency": "EUR"}
    assert len(order["line_items"]) >= 2
    assert order["shipments"][0]["tracking_number"] == "00340434161094042557"


def test_cli_verify_says_which_address_and_slug_answered(cli, sandbox_settings):
    karla("verify")
    assert json.loads(cli.readouterr().out) == {
        "slug": "demo-shop",
        "name": "Demo Shop",
        "api_root": f"{sandbox_settings.url}/api/v1",
    }
    karla("order", "1006")
    assert json.loads(cli.readouterr().out)["shipments"][0]["status"] == "delayed"


def test_cli_has_no_shipment_lookup_because_gokarla_has_none(cli):
    with pytest.raises(CommandError, match="invalid choice: 'shipment'"):
        karla("shipment", "1Z999AA10123456784")


def test_cli_timeout_ends_within_the_deadline(cli, settings):
    settings.GOKARLA_DEADLINE_SECONDS = 2
    with pytest.raises(CommandError, match="did not answer in time"):
        karla("order", "err-timeout")


def test_cli_explains_a_revoked_token(cli, monkeypatch):
    monkeypatch.setenv("KARLA_API_TOKEN", "karla-revoked-token")
    with pytest.raises(CommandError, match="revoked"):
        karla("order", "1001")


def test_cli_wants_the_token_in_the_environment(cli, monkeypatch):
    monkeypatch.delenv("KARLA_API_TOKEN")
    with pytest.raises(CommandError, match="KARLA_API_TOKEN"):
        karla("verify")


# Encryption keys


@pytest.fixture
def keys(monkeypatch):
    """Two Fernet keys; the helper switches which ones the app uses."""
    old, new = Fernet.generate_key(), Fernet.generate_key()

    def use(*ordered):
        monkeypatch.setattr(encrypted, "CRYPTER", MultiFernet([Fernet(k) for k in ordered]))

    use(old)
    return {"old": old, "new": new, "use": use}


def raw_token(account) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_token FROM accounts_gokarlaaccount WHERE id = %s", [account.pk])
        return cursor.fetchone()[0]


def test_rotate_encryption_key_re_encrypts_under_the_first_key(keys, shop_account, capsys):
    keys["use"](keys["new"], keys["old"])
    call_command("rotate_encryption_key")
    call_command("rotate_encryption_key")  # idempotent
    assert "Re-encrypted" in capsys.readouterr().out
    assert Fernet(keys["new"]).decrypt(raw_token(shop_account).encode()) == b"karla-demo-token"
    keys["use"](keys["new"])  # the old key can go now
    assert GoKarlaAccount.objects.get(pk=shop_account.pk).api_token == "karla-demo-token"


def test_rotate_encryption_key_re_encrypts_the_webhook_secret_too(keys, shop_account):
    shop_account.webhook_secret = "webhook-secret-0123456789"
    shop_account.save()
    keys["use"](keys["new"], keys["old"])
    call_command("rotate_encryption_key")
    keys["use"](keys["new"])
    account = GoKarlaAccount.objects.get(pk=shop_account.pk)
    assert account.webhook_secret == "webhook-secret-0123456789"


def test_undecryptable_token_is_never_sent_and_marks_the_account(keys, shop_account, workspace):
    keys["use"](keys["new"])  # the key the token was saved with is gone
    account = GoKarlaAccount.objects.get(pk=shop_account.pk)
    assert not account.token_is_readable
    actor = lookups.Actor(source="sidebar", actor_id="a-1", actor_name="Ada")
    with pytest.raises(TokenUnreadable, match="cannot be read"):
        lookups.order_lookup(workspace=workspace, reference="1001", actor=actor)
    account.refresh_from_db()
    assert account.status == "failing"
    assert LookupRecord.objects.get().outcome == "credentials_rejected"
    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_encryption_key")


# The demo seed


def test_demo_seed_is_idempotent_and_connects_through_the_sandbox(db, settings, sandbox_settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    workspace = Workspace.objects.get(slug="demo")
    assert workspace.name == "Demo Workspace" and workspace.sidebar_secret == "demo-sidebar-secret"
    accounts = {a.label: a for a in GoKarlaAccount.objects.filter(workspace=workspace)}
    assert set(accounts) == {"Demo Shop", "Demo Outlet"}
    assert accounts["Demo Shop"].is_default and accounts["Demo Shop"].shop_name == "Demo Shop"
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {"admin": "admin", "lead": "lead"}


def test_demo_seed_refused_in_production(db, settings, sandbox_settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("seed_demo")
    assert not Workspace.objects.exists()


def test_demo_page_only_in_development(db, client, settings, sandbox_settings):
    settings.DEBUG = True
    call_command("seed_demo")
    response = client.get("/demo/conversation/", HTTP_HOST="localhost:8000")
    assert response.status_code == 200
    assert 'src="http://127.0.0.1:8000/sidebar/?token=' in response.content.decode()
    assert "frame-src http://127.0.0.1:8000" in response["Content-Security-Policy"]
    redirect = client.get("/demo/conversation/", HTTP_HOST="127.0.0.1:8000")
    assert redirect["Location"] == "http://localhost:8000/demo/conversation/"
    settings.DEBUG = False
    assert client.get("/demo/conversation/", HTTP_HOST="localhost:8000").status_code == 404


@pytest.mark.parametrize(
    "name", ["token", "%74oken", "t%6Fken", "%74%6F%6B%65%6E", "%74%6f%6b%65%6e"]
)
def test_request_logs_never_show_a_launch_token(name):
    """However the parameter's name is percent-encoded (Django decodes it all the same)."""
    import logging

    from django.http import QueryDict

    from karla_sidebar.logging import RedactLaunchTokens

    assert QueryDict(f"{name}=eyJ.payload.sig")["token"] == "eyJ.payload.sig"
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (f"GET /sidebar/?x=1&{name}=eyJhbGciOi.payload.sig HTTP/1.1", "200", "3673"),
        None,
    )
    assert RedactLaunchTokens().filter(record)
    assert record.getMessage() == f'"GET /sidebar/?x=1&{name}=[redacted] HTTP/1.1" 200 3673'


def test_create_workspace_with_its_first_admin(db, client, monkeypatch, capsys):
    monkeypatch.setenv("KARLA_ADMIN_PASSWORD", "a-long-admin-passphrase-42")
    call_command("create_workspace", "--slug", "acme", "--name", "Acme", "--admin", "alice")
    assert "created with alice as its admin" in capsys.readouterr().out
    assert Membership.objects.get(user__username="alice").role == "admin"
    assert client.login(username="alice", password="a-long-admin-passphrase-42")
    assert b"Acme" in client.get("/settings/integrations/gokarla/accounts/").content
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_workspace", "--slug", "acme", "--name", "Acme", "--admin", "alice")
    monkeypatch.setenv("KARLA_ADMIN_PASSWORD", "short")
    with pytest.raises(CommandError, match="too short"):
        call_command("create_workspace", "--slug", "beta", "--name", "B", "--admin", "bob")


def test_an_unconfigured_checkout_says_what_to_run_in_one_line(tmp_path):
    """A fresh clone before `make run`: every manage.py command says what to do, no traceback."""
    import subprocess
    import sys
    from pathlib import Path

    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "FIELD_ENCRYPTION_KEY"}
    }
    env["KARLA_ENV_FILE"] = str(tmp_path / ".env.local")  # not written yet
    result = subprocess.run(
        [sys.executable, "manage.py", "runsandbox", "--help"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Karla Sidebar is not configured: SECRET_KEY is not set.")
    assert "`make run` writes one" in line


def test_a_python_without_the_requirements_says_what_to_run_in_one_line():
    """``python3 manage.py …`` on a fresh clone, before ``make run`` made .venv: one line."""
    # -S: no site-packages, so no Django (nor through PYTHONPATH).
    result = manage("check", python_flags=("-S",), PYTHONPATH="")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Karla Sidebar's requirements are not installed for ")
    assert "`make run` creates .venv" in line
