from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "crm.webhooks"
    label = "webhooks"
