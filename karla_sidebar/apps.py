from django.apps import AppConfig


class KarlaSidebarConfig(AppConfig):
    name = "karla_sidebar"
    verbose_name = "Karla Sidebar"

    def ready(self) -> None:
        from accounts.signals import account_verified
        from karla_sidebar import checks  # noqa: F401 (registers the system checks)
        from karla_sidebar.breaker import breaker_close_for_verified

        account_verified.connect(breaker_close_for_verified, dispatch_uid="breaker-close")
