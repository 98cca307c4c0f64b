from django.conf import settings


def workspace(request) -> dict:
    tenant = getattr(request, "tenant", None)
    return {
        "workspace": tenant if tenant is not None and not tenant.is_public else None,
        "base_domain": settings.BASE_DOMAIN,
        "site_scheme": settings.SITE_SCHEME,
    }
