"""IAM (global): roles by name with their trust policy, inline and attached policies, instance profiles.

Every role's tags are read too: the tagging API never returns IAM roles, so unmanaged roles are found here.
"""

from __future__ import annotations

from core.model import EnvModel
from live_checks.expected import refers_to
from live_checks.inventory.base import Inventory, Observed, ref, tags


class Iam(Inventory):
    service = "iam"

    def fetch(self) -> None:
        roles = [r for r in self.pages("list_roles", "Roles")
                 if not r.get("Path", "/").startswith("/aws-service-role/")]
        wanted = self.wanted.get("aws_iam_role", set())

        def details(role):
            name = role["RoleName"]
            role["tags"] = tags(self.pages("list_role_tags", "Tags", RoleName=name))
            if name not in wanted:
                return
            role["inline"] = {p: self.call("get_role_policy", RoleName=name, PolicyName=p)["PolicyDocument"]
                              for p in self.pages("list_role_policies", "PolicyNames", RoleName=name)}
            role["attached"] = [p["PolicyArn"] for p in self.pages("list_attached_role_policies", "AttachedPolicies",
                                                                   RoleName=name)]
            role["profiles"] = [p["InstanceProfileName"] for p in self.pages(
                "list_instance_profiles_for_role", "InstanceProfiles", RoleName=name)]

        self.each(details, roles)
        self.roles = {r["RoleName"]: r for r in roles}
        self.policies = {p["PolicyName"]: p for p in self.pages("list_policies", "Policies", Scope="Local")}

    def observe(self, model: EnvModel) -> list[Observed]:
        out = []
        for r in model.of_type("aws_iam_role"):
            role = self.roles.get(r.values.get("name"))
            if not role:
                continue
            out.append(Observed(r.address, {
                "name": role["RoleName"], "assume_role_policy": role.get("AssumeRolePolicyDocument"),
                "tags": role["tags"], "managed_policy_arns": sorted(role["attached"]),
                "inline_policy_names": sorted(role["inline"])}, {role["Arn"]: ref(r.address)}))
            for p in model.of_type("aws_iam_role_policy"):
                if refers_to(p.values.get("role"), r.address, model) and p.values.get("name") in role["inline"]:
                    out.append(Observed(p.address, {"name": p.values["name"], "role": ref(r.address),
                                                    "policy": role["inline"][p.values["name"]]}))
            for a in model.of_type("aws_iam_role_policy_attachment"):
                if refers_to(a.values.get("role"), r.address, model) and a.values.get("policy_arn") in role["attached"]:
                    out.append(Observed(a.address, {"role": a.values.get("role"),
                                                    "policy_arn": a.values["policy_arn"]}))
            for p in model.of_type("aws_iam_instance_profile"):
                if refers_to(p.values.get("role"), r.address, model) and p.values.get("name") in role["profiles"]:
                    out.append(Observed(p.address, {"name": p.values["name"], "role": role["RoleName"]}))
        return out
