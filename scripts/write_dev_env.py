"""Write local development settings once: DEBUG on, the sandbox on, freshly generated keys.

Usage: python scripts/write_dev_env.py .env.local   (an existing file is left alone)
"""

import base64
import secrets
import sys
from pathlib import Path

TEMPLATE = """\
# Local development settings written by `make run`. Not for production. Git ignores this file.
DEBUG=1
SECRET_KEY={secret_key}
FIELD_ENCRYPTION_KEY={field_key}
SANDBOX_ENABLED=1
SANDBOX_URL=http://127.0.0.1:8001
"""


def main(path: Path) -> None:
    if path.exists():
        print(f"{path} exists; keeping it.")
        return
    path.write_text(
        TEMPLATE.format(
            secret_key=secrets.token_urlsafe(50),
            field_key=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        )
    )
    path.chmod(0o600)
    print(f"Wrote local development settings to {path}.")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ".env.local"))
