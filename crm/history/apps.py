from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "crm.history"
    label = "history"
