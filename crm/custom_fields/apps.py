from django.apps import AppConfig


class CustomFieldsConfig(AppConfig):
    name = "crm.custom_fields"
    label = "custom_fields"
