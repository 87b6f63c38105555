from django.apps import AppConfig


class KarlaSidebarConfig(AppConfig):
    name = "karla_sidebar"
    verbose_name = "Karla Sidebar"

    def ready(self) -> None:
        from karla_sidebar import checks  # noqa: F401 (registers the system checks)
