from __future__ import annotations

from django.urls import path

from . import views

app_name = "developers"

urlpatterns = [
    path("", views.app_list, name="list"),
    path("new", views.app_new, name="new"),
    path("registration-token", views.token_new, name="token"),
    path("apps/<str:client_id>/", views.app_detail, name="app"),
    path("apps/<str:client_id>/delete", views.app_remove, name="delete"),
    path("apps/<str:client_id>/logo", views.logo_upload, name="logo-upload"),
    path("logos/<str:client_id>", views.logo, name="logo"),
    path("apps/<str:client_id>/usage", views.usage_page, name="usage"),
    path("apps/<str:client_id>/usage.csv", views.usage_csv, name="usage-csv"),
    path("apps/<str:client_id>/review", views.review_new, name="review"),
    path("apps/<str:client_id>/secret", views.secret_new, name="secret"),
    path("apps/<str:client_id>/members", views.member_new, name="member-new"),
    path("apps/<str:client_id>/members/<int:member_id>", views.member_change, name="member"),
]
