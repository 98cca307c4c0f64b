from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tenants.selectors import plan_list_public
from tenants.slugs import SLUG_MAX_LENGTH


class SignupForm(forms.Form):
    company_name = forms.CharField(label=_("Company name"), max_length=120)
    slug = forms.CharField(
        label=_("Workspace address"),
        max_length=SLUG_MAX_LENGTH,
        help_text=_("Lowercase letters, digits and hyphens; this becomes your web address."),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false", "dir": "ltr"}),
    )
    admin_name = forms.CharField(label=_("Your name"), max_length=150)
    admin_email = forms.EmailField(label=_("Work email"), widget=forms.EmailInput(attrs={"dir": "ltr"}))
    admin_password = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=_("At least 10 characters, not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    plan = forms.ChoiceField(label=_("Plan"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [(plan.code, plan.name) for plan in plan_list_public()]
