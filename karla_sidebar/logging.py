"""Logging helpers: launch tokens never reach a log line, not even a request log."""

import logging
import re

_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"]+")


class RedactLaunchTokens(logging.Filter):
    """Replaces ``token=…`` in request lines (runserver, gunicorn) with ``token=[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message:
            record.msg = _TOKEN_IN_QUERY.sub(r"\1[redacted]", message)
            record.args = None
        return True
