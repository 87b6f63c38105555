"""What the tenants tell the layers above them, without importing them (README, "Where code
goes"): a feature or use case connects a receiver in its ``AppConfig.ready``.
"""

from django.dispatch import Signal

# An admin's Test connection succeeded: GoKarla answers for this account again. Sent with
# ``account`` (the GoKarlaAccount); the lookups close the account's circuit breaker.
account_verified = Signal()
