"""The admin's History page: every recorded change to a record and to the rows under it."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from detainees.write.history import HISTORY_LIMIT, history_of


class HistoryMixin:
    """Replaces Django's History page (which only knows admin form saves) with the audit trail.

    The trail comes from database triggers, so it also shows bulk actions, API writes,
    imports and scripts, with the user or reason each was recorded with.
    """

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        changes = history_of(obj)
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "module_name": str(self.opts.verbose_name_plural).capitalize(),
            "changes": changes,
            "limited": len(changes) >= HISTORY_LIMIT,
            "limit": HISTORY_LIMIT,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/detainees/record_history.html", context)


class HistoryAdmin(HistoryMixin, admin.ModelAdmin):
    """A plain ModelAdmin with the audit-trail History page."""
