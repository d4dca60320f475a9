"""The security log in the admin: superusers read it; nobody adds, changes or deletes."""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from audit.models import SecurityEvent


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    list_display = ["created", "kind", "actor_name", "address", "message"]
    list_filter = ["kind"]
    search_fields = ["actor_name", "address", "message"]
    search_help_text = "User name, address, or words of the message."
    ordering = ["-pk"]
    show_full_result_count = False
    fields = ["created", "kind", "actor", "actor_name", "address", "message", "details"]
    readonly_fields = fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
