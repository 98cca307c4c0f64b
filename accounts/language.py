"""Which language a tenant page speaks: the person's own choice, else the workspace default.

Django's LocaleMiddleware picks a language from the cookie or the browser; this runs after
authentication and overrides it on tenant hosts: a signed-in person reads the language
saved on their account (`User.language`), or the workspace default (`Tenant.language`);
a visitor who never chose one (no cookie) reads the workspace default too.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


def _supported(language: str) -> str:
    return language if language in dict(settings.LANGUAGES) else ""


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and not tenant.is_public:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                language = _supported(user.language) or _supported(tenant.language)
            elif settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
                language = _supported(tenant.language)
            else:
                language = ""
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
