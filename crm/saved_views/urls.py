from django.urls import path

from crm.saved_views.views import saved_view_delete_view, saved_view_save_view

app_name = "saved_views"

urlpatterns = [
    path("<slug:list_key>/", saved_view_save_view, name="save"),
    path("<slug:list_key>/<int:saved_view_id>/delete/", saved_view_delete_view, name="delete"),
]
