from django.urls import path

from crm.search.views import quick_search_view

app_name = "search"

urlpatterns = [path("", quick_search_view, name="results")]
