"""The quote builder, mounted at /quotes/ (beside the quotes list, which has its own
namespace `quotes`)."""

from django.urls import path

from crm.catalog import views

app_name = "quote_builder"

urlpatterns = [
    path("<int:pk>/", views.quote_builder_view, name="detail"),
    path("<int:pk>/products/", views.product_search_view, name="products"),
    path("<int:pk>/lines/", views.line_add_view, name="line_add"),
    path("<int:pk>/lines/<int:line_id>/", views.line_update_view, name="line_update"),
    path("<int:pk>/lines/<int:line_id>/remove/", views.line_remove_view, name="line_remove"),
    path("<int:pk>/header/", views.header_view, name="header"),
    path("<int:pk>/send/", views.mark_sent_view, name="send"),
    path("<int:pk>/duplicate/", views.duplicate_view, name="duplicate"),
    path("<int:pk>/preview/", views.preview_view, name="preview"),
    path("<int:pk>/pdf/", views.pdf_view, name="pdf"),
]
