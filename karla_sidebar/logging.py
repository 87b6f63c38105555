"""Logging helpers: launch tokens never reach a log line, not even a request log."""

import logging
import re

# ``token`` as a query parameter name, each letter plain or percent-encoded (``%74oken`` is
# ``token`` to Django too), then its value.
_NAME = "".join(f"(?:{letter}|%{ord(letter):02x})" for letter in "token")
_TOKEN_IN_QUERY = re.compile(rf"([?&]{_NAME}=)[^&\s\"]+", re.IGNORECASE)


class RedactLaunchTokens(logging.Filter):
    """Replaces ``token=…`` in request lines (runserver, gunicorn) with ``token=[redacted]``,
    however the parameter's name is encoded."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _TOKEN_IN_QUERY.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
