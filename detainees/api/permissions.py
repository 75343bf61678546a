"""Who may do what through the API: anyone reads, a role's model permissions write."""

from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissions


class ReadOrRolePermission(DjangoModelPermissions):
    """Reads are public (the querysets give anonymous clients published records only).

    Writes need an authenticated user whose groups hold the model's add, change or delete
    permission; what may be changed within that (publication state, published records) is
    decided by `detainees.services`.
    """

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)
