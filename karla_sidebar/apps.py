from django.apps import AppConfig


class KarlaSidebarConfig(AppConfig):
    name = "karla_sidebar"
    verbose_name = "Karla Sidebar"
