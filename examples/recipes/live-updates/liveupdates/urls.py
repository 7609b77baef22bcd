from django.contrib.auth import views as auth_views
from django.urls import path

from backupserver.urls import urlpatterns as backup_server_urlpatterns

from . import views

urlpatterns = [
    path("", views.snapshot_list, name="live-snapshot-list"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="liveupdates/login.html"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    *backup_server_urlpatterns,
]
