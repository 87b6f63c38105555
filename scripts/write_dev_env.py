"""Write local settings once, with freshly generated keys: the demo's or the production rehearsal's.

Usage: python scripts/write_dev_env.py .env.local          (make run: DEBUG on, sandbox on)
       python scripts/write_dev_env.py .env.prod --prod    (make run-prod: production profile)
An existing file is left alone.
"""

import base64
import secrets
import sys
from pathlib import Path

DEVELOPMENT = """\
# Local development settings written by `make run`. Not for production. Git ignores this file.
DEBUG=1
SECRET_KEY={secret_key}
FIELD_ENCRYPTION_KEY={field_key}
SANDBOX_ENABLED=1
SANDBOX_URL=http://127.0.0.1:8001
# The sandbox delivers its webhooks here (the demo app's address).
PUBLIC_BASE_URL=http://127.0.0.1:8000
"""

PRODUCTION_REHEARSAL = """\
# The production profile on this machine, written by `make run-prod`. Git ignores this file.
# A real deployment sets these in its environment, with its own hosts (docs/deploy.md).
DEBUG=0
SECRET_KEY={secret_key}
FIELD_ENCRYPTION_KEY={field_key}
DATABASE_URL=postgres://postgres@127.0.0.1:5432/karla
REDIS_URL=redis://127.0.0.1:6379/0
ALLOWED_HOSTS=127.0.0.1,localhost
# Plain HTTP on loopback here; behind a TLS load balancer both stay on (their defaults).
SECURE_SSL_REDIRECT=0
SESSION_COOKIE_SECURE=0
GUNICORN_BIND=127.0.0.1:8000
"""


def main(path: Path, template: str) -> None:
    if path.exists():
        print(f"{path} exists; keeping it.")
        return
    path.write_text(
        template.format(
            secret_key=secrets.token_urlsafe(50),
            field_key=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        )
    )
    path.chmod(0o600)
    print(f"Wrote settings to {path}.")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    production = "--prod" in arguments
    names = [argument for argument in arguments if argument != "--prod"]
    main(
        Path(names[0] if names else ".env.local"),
        PRODUCTION_REHEARSAL if production else DEVELOPMENT,
    )
