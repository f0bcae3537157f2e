from __future__ import annotations

from django.urls import path

from . import (
    account_views,
    passwords,
    sign_out,
    signup_views,
    unlink_callbacks,
    upstream,
    views,
    withdrawal,
)

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", sign_out.SignOutView.as_view(), name="logout"),
    path("login/<str:provider_id>/", upstream.start, name="upstream-start"),
    path("callback/<str:provider_id>/", upstream.callback, name="upstream-callback"),
    path("identities/<int:identity_id>/unlink", upstream.unlink, name="identity-unlink"),
    path("unlink/kakao/", unlink_callbacks.kakao, name="unlink-kakao"),
    path("unlink/naver/", unlink_callbacks.naver, name="unlink-naver"),
    path("signup/", signup_views.signup, name="signup"),
    path("verify/resend/", signup_views.verification_resend, name="verify-resend"),
    path("verify/<str:token>/", signup_views.verify, name="verify"),
    path("password/reset/", passwords.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        passwords.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        passwords.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        passwords.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("password/", account_views.password_change, name="password-change"),
    path("email/", account_views.email_change, name="email-change"),
    path("sessions/<str:sid>/end", account_views.session_end, name="session-end"),
    path(
        "unlink-notices/<int:notice_id>/read",
        account_views.unlink_notice_read,
        name="unlink-notice-read",
    ),
    path("sessions/end-others", account_views.sessions_end_others, name="sessions-end-others"),
    path("delete/", withdrawal.delete_page, name="delete"),
    path("apps/", views.apps_page, name="apps"),
    path("apps/<str:client_id>/revoke", views.revoke_access, name="revoke-app"),
]
