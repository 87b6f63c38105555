"""Small helpers every layer may use: they import nothing of the app (README, "Where code goes").

Not a Django app: no models, templates or commands, so it is not in ``INSTALLED_APPS``.
"""
