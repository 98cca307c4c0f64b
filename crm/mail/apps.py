from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "crm.mail"
    label = "mail"

    def ready(self) -> None:
        # Mail attachments live beside the cards' documents and count toward the same
        # storage limit: crm.attachments sums every registered counter.
        from crm.attachments.selectors import storage_counter_register
        from crm.mail.selectors import mail_storage_used_bytes

        storage_counter_register(mail_storage_used_bytes)
