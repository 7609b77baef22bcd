from django.urls import include, path

from backupsite.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("agents/", include("agents.urls")),
    *site_urlpatterns,
]
