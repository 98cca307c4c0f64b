"""Public lead-capture URLs of a tenant host, mounted at /forms/."""

from django.urls import path, re_path

from crm.leads.views import lead_form_submit, lead_form_thanks

app_name = "lead_forms"

urlpatterns = [
    path("<str:form_key>/thanks/", lead_form_thanks, name="thanks"),
    # The trailing slash is optional: a POST to /forms/<key> must not hit APPEND_SLASH's redirect.
    re_path(r"^(?P<form_key>[^/]+)/?$", lead_form_submit, name="submit"),
]
