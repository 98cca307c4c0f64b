"""Forms of the settings pages: they read and check the shape of the input; the
services decide what is allowed and write."""

from __future__ import annotations

import zoneinfo

import phonenumbers
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts import audit, roles
from accounts.models import Role, SeatType, User
from crm.validation import CURRENCIES


def _people():
    return User.objects.filter(is_active=True, is_integration=False).order_by("full_name", "id")


ACTION_LABELS = {
    "view": _("View"),
    "create": _("Create"),
    "edit": _("Edit"),
    "delete": _("Delete"),
    "export": _("Export"),
}
RECORD_TYPE_LABELS = {
    "lead": _("Leads"),
    "contact": _("Contacts"),
    "company": _("Companies"),
    "deal": _("Deals"),
    "task": _("Tasks"),
    "activity": _("Activities"),
    "product": _("Products"),
    "quote": _("Quotes"),
}


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    full_name = forms.CharField(label=_("Name"), max_length=150, required=False)
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.order_by("name", "id"))
    seat_type = forms.ChoiceField(label=_("Seat"), choices=SeatType.choices, initial=SeatType.CONCURRENT)


class UserChangeForm(forms.Form):
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.order_by("name", "id"))
    seat_type = forms.ChoiceField(label=_("Seat"), choices=SeatType.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False)


class RoleForm(forms.Form):
    """Name, description, one scope per record type and action, and the powers."""

    name = forms.CharField(label=_("Name"), max_length=80)
    description = forms.CharField(label=_("Description"), max_length=255, required=False)
    capabilities = forms.MultipleChoiceField(
        label=_("Administrative powers"),
        choices=[(power, roles.CAPABILITY_LABELS[power]) for power in roles.CAPABILITIES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, permissions: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        scope_choices = [(scope, roles.SCOPE_LABELS[scope]) for scope in roles.SCOPES]
        current = roles.normalized_permissions(permissions or {})
        for record_type in roles.RECORD_TYPES:
            for action in roles.ACTIONS:
                self.fields[f"perm_{record_type}_{action}"] = forms.ChoiceField(
                    choices=scope_choices, initial=current[record_type][action]
                )

    def permissions(self) -> dict[str, dict[str, str]]:
        return {
            record_type: {action: self.cleaned_data[f"perm_{record_type}_{action}"] for action in roles.ACTIONS}
            for record_type in roles.RECORD_TYPES
        }

    def matrix(self) -> list[tuple[str, list]]:
        """(record type label, [(bound field, action label)] in ACTIONS order), for the table."""
        return [
            (
                RECORD_TYPE_LABELS[record_type],
                [(self[f"perm_{record_type}_{action}"], ACTION_LABELS[action]) for action in roles.ACTIONS],
            )
            for record_type in roles.RECORD_TYPES
        ]


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    manager = forms.ModelChoiceField(
        label=_("Manager"), queryset=User.objects.none(), required=False, empty_label=_("No manager")
    )
    members = forms.ModelMultipleChoiceField(
        label=_("Members"), queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = _people()
        self.fields["members"].queryset = _people()


def _time_zones() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name or name == "UTC"]


class WorkspaceForm(forms.Form):
    base_currency = forms.ChoiceField(label=_("Currency"), choices=[(code, code) for code in sorted(CURRENCIES)])
    default_phone_region = forms.ChoiceField(
        label=_("Default phone region"),
        help_text=_("Phone numbers typed without a country code are read as this country's."),
        choices=[],
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=[])
    language = forms.ChoiceField(
        label=_("Default language"),
        help_text=_("For people who have not chosen their own."),
        choices=settings.LANGUAGES,
    )
    lead_followup_minutes = forms.IntegerField(
        label=_("Call a new lead within"), min_value=1, max_value=60 * 24 * 30, help_text=_("Minutes.")
    )
    stale_deal_days = forms.IntegerField(
        label=_("A deal needs attention after"),
        min_value=1,
        max_value=365,
        help_text=_("Days without activity."),
    )
    idle_timeout_minutes = forms.IntegerField(
        label=_("Free a shared seat after"),
        min_value=1,
        max_value=60 * 24,
        help_text=_("Minutes without activity."),
    )
    allow_parallel_sessions = forms.BooleanField(
        label=_("Allow signing in from several browsers at once"),
        required=False,
        help_text=_("When off, a new sign-in ends the person's other sessions."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        regions = sorted(phonenumbers.SUPPORTED_REGIONS)
        self.fields["default_phone_region"].choices = [(code, code) for code in regions]
        self.fields["time_zone"].choices = _time_zones()


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)


class StageForm(forms.Form):
    name = forms.CharField(label=_("Stage name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=[])
    win_probability = forms.IntegerField(label=_("Win probability"), min_value=0, max_value=100, required=False)

    def __init__(self, *args, **kwargs):
        from crm.deals.models import StageKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = StageKind.choices


class StageRemoveForm(forms.Form):
    move_deals_to = forms.ModelChoiceField(
        label=_("Move its deals to"), queryset=None, required=False, empty_label=_("(the stage has no deals)")
    )

    def __init__(self, *args, stages=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["move_deals_to"].queryset = stages


class LeadFormSettingsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    allowed_origins = forms.CharField(
        label=_("Sites allowed to send leads"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("One address per line, e.g. https://www.example.com. Empty: any site."),
    )
    assignment = forms.ChoiceField(label=_("Assign new leads"), choices=[])
    owner = forms.ModelChoiceField(label=_("Owner of new leads"), queryset=User.objects.none(), required=False)
    round_robin_users = forms.ModelMultipleChoiceField(
        label=_("People taking turns"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    thank_you_text = forms.CharField(
        label=_("Thank-you message"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=1000
    )
    redirect_url = forms.CharField(label=_("Redirect after sending"), max_length=2000, required=False)
    is_active = forms.BooleanField(label=_("Accepting leads"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        from crm.leads.models import LeadAssignment

        super().__init__(*args, **kwargs)
        self.fields["assignment"].choices = LeadAssignment.choices
        self.fields["owner"].queryset = _people()
        self.fields["round_robin_users"].queryset = _people()

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["allowed_origins"] = [line.strip() for line in data["allowed_origins"].splitlines() if line.strip()]
        data["round_robin_users"] = list(data["round_robin_users"])
        return data


class AuditFilterForm(forms.Form):
    person = forms.ModelChoiceField(
        label=_("Who"),
        queryset=User.objects.filter(is_integration=False).order_by("full_name", "id"),
        required=False,
        empty_label=_("Everyone"),
    )
    group = forms.ChoiceField(label=_("What"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", _("All changes")), *audit.ACTION_GROUPS.items()]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date comes before the start date."))
        return data


class PeopleFilterForm(forms.Form):
    search = forms.CharField(label=_("Name or email"), required=False, max_length=100)
    role = forms.ModelChoiceField(
        label=_("Role"), queryset=Role.objects.order_by("name", "id"), required=False, empty_label=_("Any role")
    )
    seat_type = forms.ChoiceField(label=_("Seat"), required=False, choices=[("", _("Any seat")), *SeatType.choices])
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Everyone")), ("yes", _("May sign in")), ("no", _("Switched off"))],
    )

    def selector_filters(self) -> dict:
        """What accounts.selectors.user_list takes, from the valid form."""
        data = self.cleaned_data
        active = {"yes": True, "no": False}.get(data.get("active") or "")
        return {
            "search": (data.get("search") or "").strip() or None,
            "role": data.get("role"),
            "seat_type": data.get("seat_type") or None,
            "active": active,
        }
