"""Settings pages of a tenant host, mounted at /settings/."""

from django.urls import path

from crm.settings_pages import access_views, custom_field_views, email_views, workspace_views

app_name = "settings"

urlpatterns = [
    path("", access_views.settings_index, name="index"),
    path("seats/", access_views.seats_view, name="seats"),
    path("seats/<int:lease_id>/release/", access_views.seat_release_view, name="seat_release"),
    path("users/", access_views.users_view, name="users"),
    path("users/<int:user_id>/", access_views.user_change_view, name="user_change"),
    path("invitations/<int:invitation_id>/revoke/", access_views.invitation_revoke_view, name="invitation_revoke"),
    path("roles/", access_views.roles_view, name="roles"),
    path("roles/new/", access_views.role_create_view, name="role_create"),
    path("roles/<int:role_id>/", access_views.role_edit_view, name="role_edit"),
    path("roles/<int:role_id>/delete/", access_views.role_delete_view, name="role_delete"),
    path("teams/", access_views.teams_view, name="teams"),
    path("teams/<int:team_id>/", access_views.team_edit_view, name="team_edit"),
    path("teams/<int:team_id>/delete/", access_views.team_delete_view, name="team_delete"),
    path("audit/", access_views.audit_view, name="audit"),
    path("workspace/", workspace_views.workspace_view, name="workspace"),
    path("pipelines/", workspace_views.pipelines_view, name="pipelines"),
    path("pipelines/<int:pipeline_id>/", workspace_views.pipeline_change_view, name="pipeline_change"),
    path("stages/<int:stage_id>/rename/", workspace_views.stage_rename_view, name="stage_rename"),
    path("stages/<int:stage_id>/remove/", workspace_views.stage_remove_view, name="stage_remove"),
    path("lead-forms/", workspace_views.lead_forms_view, name="lead_forms"),
    path("lead-forms/<int:form_id>/", workspace_views.lead_form_view, name="lead_form"),
    path("email/", email_views.email_view, name="email"),
    path("email/mailboxes/<int:account_id>/test/", email_views.email_account_test_view, name="email_account_test"),
    path("email/templates/new/", email_views.email_template_new_view, name="email_template_new"),
    path("email/templates/<int:template_id>/", email_views.email_template_view, name="email_template"),
    path("custom-fields/", custom_field_views.custom_fields_view, name="custom_fields"),
    path("custom-fields/new/", custom_field_views.custom_field_create_view, name="custom_field_create"),
    path("custom-fields/move/", custom_field_views.custom_field_move_view, name="custom_field_move"),
    path("custom-fields/<int:field_id>/", custom_field_views.custom_field_edit_view, name="custom_field_edit"),
    path(
        "custom-fields/<int:field_id>/remove/", custom_field_views.custom_field_remove_view, name="custom_field_remove"
    ),
    path(
        "custom-fields/<int:field_id>/restore/",
        custom_field_views.custom_field_restore_view,
        name="custom_field_restore",
    ),
]
