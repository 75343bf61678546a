"""Who may do what through the API: anyone reads; writes are decided by `detainees.domain.permissions`,
the rule set the admin and the importer also follow."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from detainees.domain import permissions

ACTIONS = {
    "POST": permissions.ADD,
    "PUT": permissions.CHANGE,
    "PATCH": permissions.CHANGE,
    "DELETE": permissions.DELETE,
}


def model_of(view):
    queryset = getattr(view, "queryset", None)
    if queryset is not None:
        return queryset.model
    serializer = getattr(view, "write_serializer_class", None)
    if serializer is not None:
        return serializer.Meta.model
    return None


class ReadOrRolePermission(BasePermission):
    """Reads are public (the querysets give anonymous clients published records only).

    Writes need an authenticated user whom `detainees.domain.permissions` allows the action on the
    type (POST: add, PUT and PATCH: change, DELETE: delete) and then on the record itself (a
    published record is the editors'). What may be changed within that (publication state,
    confidentiality) is checked by `detainees.write.services` with the same rules.
    """

    message = "Your role may not do this."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        model = model_of(view)
        if model is None:
            return True
        reason = permissions.refusal(user, ACTIONS.get(request.method, "change"), model)
        if reason:
            self.message = reason
        return reason is None

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        reason = permissions.refusal(request.user, ACTIONS.get(request.method, "change"), obj)
        if reason:
            self.message = reason
        return reason is None
