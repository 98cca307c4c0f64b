from django.apps import AppConfig


class SavedViewsConfig(AppConfig):
    name = "crm.saved_views"
    label = "saved_views"
