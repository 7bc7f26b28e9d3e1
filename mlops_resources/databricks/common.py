"""Small helpers every component shares: child options and permission lists."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_databricks as databricks

from mlops_resources.config.access import Principal

MANAGED_BY = "pulumi"


def child_opts(
    parent: pulumi.Resource,
    *,
    protect: bool = False,
    depends_on: list[pulumi.Resource] | None = None,
) -> pulumi.ResourceOptions:
    """Options of a component's child.

    ``protect`` also sets ``retain_on_delete``: a protected ML asset holds runs and model
    versions, which must survive even a deliberate ``pulumi destroy`` or a replacement.
    """
    return pulumi.ResourceOptions(
        parent=parent,
        protect=protect,
        retain_on_delete=protect or None,
        depends_on=depends_on,
    )


def access_controls(
    groups: Mapping[str, str],
    principals: Mapping[Principal, str] | None = None,
) -> list[databricks.PermissionsAccessControlArgs]:
    """One ``PermissionsAccessControlArgs`` per principal, in a fixed order: groups, then the
    run-as principal (a service principal by application id, or a user by user name).

    Mappings hold exactly one level per principal: ``databricks.Permissions`` drifts forever
    when a principal is listed twice on one object, and a stable order avoids phantom diffs.
    """
    entries = [
        databricks.PermissionsAccessControlArgs(group_name=group, permission_level=level)
        for group, level in sorted(groups.items())
    ]
    for principal, level in sorted((principals or {}).items(), key=lambda p: p[0].name):
        if principal.kind == "user":
            entries.append(
                databricks.PermissionsAccessControlArgs(
                    user_name=principal.name, permission_level=level
                )
            )
        else:
            entries.append(
                databricks.PermissionsAccessControlArgs(
                    service_principal_name=principal.name, permission_level=level
                )
            )
    return entries
