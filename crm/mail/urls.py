from django.urls import path

from crm.mail import public_views, views

app_name = "mail"

urlpatterns = [
    path("", views.inbox_view, name="inbox"),
    path("compose/<slug:record_type>/<int:record_id>/", views.compose_view, name="compose"),
    path("compose/quote/<int:quote_id>/", views.compose_quote_view, name="compose_quote"),
    path("messages/<int:pk>/", views.message_view, name="message"),
    path("messages/<int:pk>/body/", views.body_view, name="body"),
    path("messages/<int:pk>/reply/", views.reply_view, name="reply"),
    path("messages/<int:pk>/retry/", views.retry_view, name="retry"),
    path("messages/<int:pk>/<slug:outcome>/", views.triage_view, name="triage"),
    path("files/<int:pk>/", views.attachment_download, name="attachment"),
    path("mailbox/", views.mailbox_view, name="mailbox"),
    path("inbound/<str:token>/", public_views.inbound_view, name="inbound"),
    path("t/<str:token>/o.gif", public_views.open_pixel_view, name="open"),
    path("t/<str:token>/l/<int:index>/", public_views.click_view, name="click"),
]
