"""The Sidebar tab of the settings pages (``templates/accounts/gokarla-sidebar.html``)."""

from .views import (
    sidebar_replies_save,
    sidebar_secret_reveal,
    sidebar_secret_rotate,
    sidebar_settings_save,
    sidebar_tab,
    sidebar_test,
    sidebar_test_token,
)

__all__ = [
    "sidebar_replies_save",
    "sidebar_secret_reveal",
    "sidebar_secret_rotate",
    "sidebar_settings_save",
    "sidebar_tab",
    "sidebar_test",
    "sidebar_test_token",
]
