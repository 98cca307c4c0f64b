"""Forms of the mail pages. They only shape input: the services validate and refuse."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crm.mail.models import Security

TEXTAREA = forms.Textarea(attrs={"rows": 12, "dir": "auto"})


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class ComposeForm(forms.Form):
    template = forms.ChoiceField(label=_("Template"), required=False)
    to = forms.CharField(
        label=_("To"), required=False, max_length=5000, help_text=_("Separate several addresses with commas.")
    )
    cc = forms.CharField(label=_("Copy"), required=False, max_length=5000)
    bcc = forms.CharField(label=_("Blind copy"), required=False, max_length=5000)
    subject = forms.CharField(label=_("Subject"), required=False, max_length=2000)
    body = forms.CharField(label=_("Text"), required=False, widget=TEXTAREA, max_length=200_000)
    documents = forms.MultipleChoiceField(
        label=_("Attach documents of this card"), required=False, widget=forms.CheckboxSelectMultiple
    )
    attachments = MultipleFileField(label=_("Attach files"))

    def __init__(self, *args, templates=(), documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [("", _("No template")), *templates]
        self.fields["documents"].choices = list(documents)
        if not documents:
            del self.fields["documents"]


class MailAccountForm(forms.Form):
    from_name = forms.CharField(label=_("Sender name"), required=False, max_length=200)
    from_address = forms.CharField(label=_("Sender address"), max_length=254, required=False)
    smtp_host = forms.CharField(label=_("SMTP server"), required=False, max_length=253)
    smtp_port = forms.IntegerField(label=_("SMTP port"), initial=587, min_value=1, max_value=65535)
    smtp_security = forms.ChoiceField(label=_("SMTP security"), choices=Security.choices, initial=Security.STARTTLS)
    smtp_username = forms.CharField(label=_("SMTP user name"), required=False, max_length=254)
    smtp_password = forms.CharField(
        label=_("SMTP password"), required=False, max_length=500, widget=forms.PasswordInput(render_value=False)
    )
    imap_host = forms.CharField(label=_("IMAP server"), required=False, max_length=253)
    imap_port = forms.IntegerField(label=_("IMAP port"), initial=993, min_value=1, max_value=65535)
    imap_security = forms.ChoiceField(label=_("IMAP security"), choices=Security.choices, initial=Security.SSL)
    imap_username = forms.CharField(label=_("IMAP user name"), required=False, max_length=254)
    imap_password = forms.CharField(
        label=_("IMAP password"), required=False, max_length=500, widget=forms.PasswordInput(render_value=False)
    )
    imap_folder = forms.CharField(label=_("IMAP folder"), required=False, max_length=200, initial="INBOX")
    is_active = forms.BooleanField(label=_("Use this mailbox"), required=False, initial=True)
    clear_smtp_password = forms.BooleanField(label=_("Remove the stored SMTP password"), required=False)
    clear_imap_password = forms.BooleanField(label=_("Remove the stored IMAP password"), required=False)

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        for purpose in ("smtp", "imap"):
            sealed = getattr(account, f"{purpose}_password_sealed", "") if account is not None else ""
            field = self.fields[f"{purpose}_password"]
            field.help_text = _("Set. Leave empty to keep it.") if sealed else _("Not set.")
            field.widget.attrs["autocomplete"] = "new-password"
            if not sealed:
                del self.fields[f"clear_{purpose}_password"]

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        for purpose in ("smtp", "imap"):
            typed = data.pop(f"{purpose}_password") or None
            if data.pop(f"clear_{purpose}_password", False):
                typed = ""
            data[f"{purpose}_password"] = typed
        return data


class MailSettingsForm(forms.Form):
    track_opens = forms.BooleanField(
        label=_("Count opens"),
        required=False,
        help_text=_("Adds an invisible image to the HTML part of sent emails. Off by default for privacy."),
    )
    track_clicks = forms.BooleanField(
        label=_("Count clicks on links"),
        required=False,
        help_text=_("Links in sent emails go through this workspace first. Off by default for privacy."),
    )
    create_leads = forms.BooleanField(
        label=_("Create a lead for every email from an unknown sender"),
        required=False,
        help_text=_("Otherwise such emails wait in “Unmatched mail” until someone decides."),
    )


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    language = forms.ChoiceField(label=_("Language"), required=False)
    subject = forms.CharField(label=_("Subject"), required=False, max_length=2000)
    body = forms.CharField(label=_("Text"), widget=TEXTAREA, required=False, max_length=100_000)
    is_active = forms.BooleanField(label=_("Offer it when writing emails"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Any language")), *settings.LANGUAGES]
