"""The editorial roles: each group's name and the permissions it holds, in one place.

Used by the data migration that creates the groups, by the `post_migrate` hook that adds
permissions defined later (see `ensure_roles`), and by the tests. Group membership is managed in
the admin (Users). Publishing and withdrawing are permissions of their own, per record type:
`detainees.publish_person`, `detainees.withdraw_event`, ...; what a user may do with them, on
which record in which state, is decided by `detainees.domain.permissions` alone.
"""

RESEARCHER = "Researcher"
EDITOR = "Editor"
ADMIN = "Admin"

# Records with a publication status, by model name.
PUBLISHABLE = (
    "person",
    "affiliation",
    "event",
    "releasebatch",
    "organization",
    "place",
    "facility",
    "source",
)
# Rows that belong to a record and are edited with it (names, links, citations).
PARTS = (
    "personname",
    "nationality",
    "relationship",
    "eventperson",
    "eventorganization",
    "batchmembership",
    "citation",
    "organizationname",
    "facilityname",
    "facilitycontrol",
)

# Codename -> human name of the permissions Django does not create by itself.
PUBLICATION_PERMISSIONS = {
    **{f"publish_{model}": f"Can publish {model}" for model in PUBLISHABLE},
    **{f"withdraw_{model}": f"Can withdraw {model}" for model in PUBLISHABLE},
}

# Merging two people (Person's Meta declares the permission; detainees.write.services.merge_persons).
EDITOR_MERGE_PERMISSIONS: tuple[str, ...] = ("detainees.merge_person",)


def _crud(actions: str, models) -> list[str]:
    return [f"detainees.{action}_{model}" for model in models for action in actions.split()]


RESEARCHER_PERMISSIONS = (
    *_crud("view add change", PUBLISHABLE),
    *_crud("view add change delete", PARTS),
    *_crud("view add", ["reviewcomment"]),
    *_crud("view", ["correction"]),
)

EDITOR_PERMISSIONS = (
    *RESEARCHER_PERMISSIONS,
    *_crud("delete", PUBLISHABLE),
    *(f"detainees.{codename}" for codename in PUBLICATION_PERMISSIONS),
    *_crud("change delete", ["reviewcomment"]),
    *_crud("add change", ["correction"]),
    *EDITOR_MERGE_PERMISSIONS,
)

ADMIN_PERMISSIONS = (
    *EDITOR_PERMISSIONS,
    *_crud("delete", ["correction"]),
    # People and their roles, and the API tokens issued to them.
    *(f"auth.{a}_{m}" for m in ("user", "group") for a in ("view", "add", "change", "delete")),
    "auth.view_permission",
    *(f"authtoken.{a}_tokenproxy" for a in ("view", "add", "change", "delete")),
    *(f"authtoken.{a}_token" for a in ("view", "add", "change", "delete")),
)

ROLES: dict[str, tuple[str, ...]] = {
    RESEARCHER: RESEARCHER_PERMISSIONS,
    EDITOR: EDITOR_PERMISSIONS,
    ADMIN: ADMIN_PERMISSIONS,
}


def permission_name(app_label: str, codename: str) -> str:
    if codename in PUBLICATION_PERMISSIONS:
        return PUBLICATION_PERMISSIONS[codename]
    action, model = codename.split("_", 1)
    return f"Can {action} {model}"


def ensure_roles(apps, *, using: str = "default", reset: bool = False) -> None:
    """Create the groups and any permission they need that is missing, then grant them.

    `apps` is the migration's app registry (or django.apps.apps). Permissions are created when
    missing because a migration runs before Django's own post_migrate step creates them. With
    `reset`, each group holds exactly its listed permissions; without, permissions are only
    added, so grants made by hand in the admin survive a later migrate.
    """
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group_name, labels in ROLES.items():
        permissions = []
        for label in dict.fromkeys(labels):
            app_label, codename = label.split(".")
            model = codename.split("_", 1)[1]
            content_type, _ = ContentType.objects.using(using).get_or_create(
                app_label=app_label, model=model
            )
            permission, _ = Permission.objects.using(using).get_or_create(
                content_type=content_type,
                codename=codename,
                defaults={"name": permission_name(app_label, codename)},
            )
            permissions.append(permission)
        group, _ = Group.objects.using(using).get_or_create(name=group_name)
        if reset:
            group.permissions.set(permissions)
        else:
            group.permissions.add(*permissions)
