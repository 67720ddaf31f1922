"""IAM (global): every role with its trust policy, tags, inline and attached policies and instance profiles, in
one paginated ``GetAccountAuthorizationDetails`` (roles only), and the account's customer-managed policies.

Every role's tags are needed (the tagging API never returns IAM roles, and unmanaged roles are found by their
Environment tag as well as by their name), but ``ListRoles`` does not return tags: reading them role by role
made the calls grow with the roles in the account. One paginated call gives all of it, calls grow with pages.
"""

from __future__ import annotations

from core.model import EnvModel
from live_checks.expected import refers_to
from live_checks.inventory.base import Inventory, Observed, ref, tags

PAGE_SIZE = 1000  # GetAccountAuthorizationDetails' largest MaxItems (AWS may still return fewer per page)


class Iam(Inventory):
    service = "iam"

    def fetch(self) -> None:
        self.roles = {}
        for role in self.pages("get_account_authorization_details", "RoleDetailList", Filter=["Role"],
                               PaginationConfig={"PageSize": PAGE_SIZE}):
            if role.get("Path", "/").startswith("/aws-service-role/"):
                continue
            role["tags"] = tags(role.get("Tags"))
            role["inline"] = {p["PolicyName"]: p["PolicyDocument"] for p in role.get("RolePolicyList") or []}
            role["attached"] = [p["PolicyArn"] for p in role.get("AttachedManagedPolicies") or []]
            role["profiles"] = [p["InstanceProfileName"] for p in role.get("InstanceProfileList") or []]
            self.roles[role["RoleName"]] = role
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
