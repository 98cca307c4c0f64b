from django import forms
from django.utils.translation import gettext_lazy as _

from billing.services import TEST_CARDS


class RequestTokenField(forms.CharField):
    """One value per rendered form: the Idempotency-Key part that makes a double submit harmless."""

    def __init__(self, **kwargs):
        super().__init__(min_length=16, max_length=64, widget=forms.HiddenInput, **kwargs)


class PlanSeatsForm(forms.Form):
    plan = forms.ModelChoiceField(label=_("Plan"), queryset=None, to_field_name="code", empty_label=None)
    seats = forms.IntegerField(
        label=_("Named seats"),
        min_value=1,
        max_value=10000,
        help_text=_("Each person with a named seat counts once; you pay per seat and month."),
    )
    request_token = RequestTokenField()

    def __init__(self, *args, plans, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plans


class TokenForm(forms.Form):
    request_token = RequestTokenField()


class SetupIntentForm(forms.Form):
    setup_intent = forms.RegexField(regex=r"^seti_[A-Za-z0-9_]+$", max_length=255)


class TestCardForm(forms.Form):
    test_card = forms.ChoiceField(label=_("Test card"), choices=list(TEST_CARDS.items()))
    request_token = RequestTokenField()
