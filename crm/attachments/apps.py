from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    name = "crm.attachments"
    label = "attachments"
