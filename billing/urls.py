"""The billing page on a tenant host (the webhook lives on the public host)."""

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.page, name="page"),
    path("plan/", views.plan_change, name="plan"),
    path("cancel/", views.cancel, name="cancel"),
    path("resume/", views.resume, name="resume"),
    path("refresh/", views.refresh, name="refresh"),
    path("card/intent/", views.card_intent, name="card_intent"),
    path("card/", views.card_save, name="card_save"),
    path("card/test/", views.card_test, name="card_test"),
]
