from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class AccountAdmin(UserAdmin):
    list_display = ("username", "email", "email_verified", "is_staff", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("Email", {"fields": ("email_verified",)}))
