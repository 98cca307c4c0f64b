from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts.views import SeatLoginView, invitation_accept_view, language_set_view, logout_view, time_zone_set_view

app_name = "accounts"

urlpatterns = [
    path("login/", SeatLoginView.as_view(), name="login"),
    path("logout/", logout_view, name="logout"),
    path("language/", language_set_view, name="language"),
    path("time-zone/", time_zone_set_view, name="time_zone"),
    path("invitations/<str:token>/", invitation_accept_view, name="invitation_accept"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset_form.html",
            email_template_name="accounts/email/password_reset.txt",
            subject_template_name="accounts/email/password_reset_subject.txt",
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]
