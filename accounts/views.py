from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.errors import AccountsError, InvitationInvalid, SeatError
from accounts.forms import EmailLoginForm, InvitationAcceptForm
from accounts.seats import seat_lease_acquire, seat_lease_release
from accounts.services import invitation_accept, invitation_by_token, user_language_set, user_time_zone_set


class SeatLoginView(auth_views.LoginView):
    """Sign in only with a seat: a named one, or a free shared one (taken as a lease)."""

    template_name = "accounts/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        try:
            seat_lease_acquire(
                user=form.get_user(),
                session_key=self.request.session.session_key,
                ip_address=self.request.META.get("REMOTE_ADDR"),
                user_agent=self.request.headers.get("User-Agent", ""),
            )
        except SeatError as refused:
            logout(self.request)
            form.add_error(None, refused.message)
            return self.render_to_response(self.get_context_data(form=form, seat_error_code=refused.code))
        return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out and free the seat at once."""
    if request.session.session_key:
        seat_lease_release(session_key=request.session.session_key)
    logout(request)
    messages.info(request, _("You are signed out. Your seat is free for a colleague."))
    return redirect("accounts:login")


def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    """Set a password from an invitation link, then start working at once."""
    try:
        invitation = invitation_by_token(token)
    except InvitationInvalid as invalid:
        return render(request, "accounts/invitation_accept.html", {"invalid": invalid.message}, status=410)
    form = InvitationAcceptForm(request.POST or None, initial={"full_name": invitation.full_name})
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(
                token=token, password=form.cleaned_data["password1"], full_name=form.cleaned_data["full_name"]
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error("password1" if field == "password" else None, problem)
        except AccountsError as error:
            form.add_error(None, error.message)
        else:
            login(request, user, backend="accounts.backends.EmailBackend")
            try:
                seat_lease_acquire(
                    user=user,
                    session_key=request.session.session_key,
                    ip_address=request.META.get("REMOTE_ADDR"),
                    user_agent=request.headers.get("User-Agent", ""),
                )
            except SeatError as refused:
                logout(request)
                messages.warning(request, refused.message)
                return redirect("accounts:login")
            return redirect("home")
    return render(request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation})


@require_POST
def language_set_view(request: HttpRequest) -> HttpResponse:
    """Switch the interface language: saved on the account when signed in, and in a cookie
    (for the sign-in page). An unknown language changes nothing."""
    language = request.POST.get("language", "")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        user_language_set(user=request.user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response


@login_required
@require_POST
def time_zone_set_view(request: HttpRequest) -> HttpResponse:
    """Show times in the zone chosen ("" = the workspace's); back to the page it came from."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    try:
        user_time_zone_set(user=request.user, time_zone=request.POST.get("time_zone", "").strip())
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    return redirect(target)
