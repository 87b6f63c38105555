#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "karla_sidebar.settings")
    try:
        from django.core.exceptions import ImproperlyConfigured
        from django.core.management import execute_from_command_line
    except ImportError as error:
        # A Python without the requirements (no .venv yet, or not its python): one line.
        sys.exit(
            f"Karla Sidebar's requirements are not installed for {sys.executable} ({error}): "
            "`make run` creates .venv and installs them; then use .venv/bin/python manage.py."
        )

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A missing setting is the operator's to fix: one clear line, not a traceback.
        hint = ""
        env_file = os.environ.get("KARLA_ENV_FILE", str(Path(__file__).parent / ".env.local"))
        if env_file and not Path(env_file).exists():
            hint = (
                " (No .env.local yet: `make run` writes one with development settings; or "
                "`make .env.local` alone.)"
            )
        sys.exit(f"Karla Sidebar is not configured: {error}{hint}")


if __name__ == "__main__":
    main()
