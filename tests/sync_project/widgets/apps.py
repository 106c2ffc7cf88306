from django.apps import AppConfig


class WidgetsConfig(AppConfig):
    name = "tests.sync_project.widgets"
    label = "widgets"
    default_auto_field = "django.db.models.BigAutoField"
