"""Mailbox passwords are sealed with a key derived from SECRET_KEY, per workspace."""

from crm.mail import secrets


def test_a_sealed_password_opens_again_for_the_same_workspace(settings):
    sealed = secrets.seal("hunter2-long", workspace_id=7, purpose="smtp")

    assert "hunter2" not in sealed
    assert secrets.unseal(sealed, workspace_id=7, purpose="smtp") == "hunter2-long"


def test_another_workspace_or_purpose_cannot_open_it():
    sealed = secrets.seal("hunter2-long", workspace_id=7, purpose="smtp")

    assert secrets.unseal(sealed, workspace_id=8, purpose="smtp") is None
    assert secrets.unseal(sealed, workspace_id=7, purpose="imap") is None


def test_a_rotated_secret_key_still_opens_with_the_fallback(settings):
    sealed = secrets.seal("hunter2-long", workspace_id=7, purpose="smtp")
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40

    assert secrets.unseal(sealed, workspace_id=7, purpose="smtp") == "hunter2-long"

    settings.SECRET_KEY_FALLBACKS = []
    assert secrets.unseal(sealed, workspace_id=7, purpose="smtp") is None


def test_empty_stays_empty():
    assert secrets.seal("", workspace_id=1, purpose="smtp") == ""
    assert secrets.unseal("", workspace_id=1, purpose="smtp") == ""
