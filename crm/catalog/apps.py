from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "crm.catalog"
    label = "catalog"
