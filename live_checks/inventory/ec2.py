"""EC2: app instances (by Name tag) and security groups (by name), rules in Terraform's block shape."""

from __future__ import annotations

from core.model import EnvModel
from live_checks.expected import identity
from live_checks.inventory.base import Inventory, Observed, indexed, ref, tags

GONE = ("shutting-down", "terminated")


class Ec2(Inventory):
    service = "ec2"

    def fetch(self) -> None:
        self.instances = [i for r in self.pages("describe_instances", "Reservations") for i in r["Instances"]
                          if i["State"]["Name"] not in GONE]
        self.instances.sort(key=lambda i: (i["LaunchTime"], i["InstanceId"]))
        self.groups = list(self.pages("describe_security_groups", "SecurityGroups"))
        self.vpcs = list(self.pages("describe_vpcs", "Vpcs"))
        self.interfaces = list(self.pages("describe_network_interfaces", "NetworkInterfaces"))

    def vpc_ids(self, model: EnvModel) -> set[str]:
        """The environment's VPCs (found by their Name tag, as Terraform tags them)."""
        names = {identity(r) for r in model.of_type("aws_vpc")} - {None}
        return {v["VpcId"] for v in self.vpcs if tags(v.get("Tags")).get("Name") in names}

    def in_vpcs(self, vpcs: set[str], known) -> list[tuple[str, str, str]]:
        """(kind, id, label) of every instance, security group and network interface in these VPCs that is
        not ``known``; an interface attached to an instance goes with that instance."""
        out = [("instance", i["InstanceId"], "Name=" + tags(i.get("Tags")).get("Name", "(none)"))
               for i in self.instances if i.get("VpcId") in vpcs and i["InstanceId"] not in known]
        out += [("security-group", g["GroupId"], f"name {g['GroupName']}") for g in self.groups
                if g.get("VpcId") in vpcs and g["GroupName"] != "default" and g["GroupId"] not in known]
        out += [("network-interface", n["NetworkInterfaceId"], n.get("Description") or n.get("InterfaceType", ""))
                for n in self.interfaces if n.get("VpcId") in vpcs and not n.get("RequesterManaged")
                and n["NetworkInterfaceId"] not in known and not (n.get("Attachment") or {}).get("InstanceId")]
        return out

    def labels(self) -> dict[str, str]:
        out = {g["GroupId"]: f"sg:{g['GroupName']}" for g in self.groups}
        out.update({i["InstanceId"]: f"{i['InstanceId']} ({tags(i.get('Tags')).get('Name', 'no Name')})"
                    for i in self.instances})
        return out

    def observe(self, model: EnvModel) -> list[Observed]:
        out = []
        declared: dict[str, list[str]] = {}
        for r in model.of_type("aws_instance"):
            declared.setdefault(identity(r), []).append(r.address)
        declared.pop(None, None)
        for name, addresses in declared.items():
            running = [i for i in self.instances if tags(i.get("Tags")).get("Name") == name]
            for n, inst in enumerate(running):
                address = addresses[n] if n < len(addresses) else indexed(addresses[0], n)
                out.append(Observed(address, _instance(inst), _instance_ids(inst, address)))
        for r in model.of_type("aws_security_group"):
            g = next((g for g in self.groups if g["GroupName"] == r.values.get("name")), None)
            if g:
                out.append(Observed(r.address, _group(g), {g["GroupId"]: ref(r.address)}))
        for r in model.of_type("aws_default_security_group"):  # the VPC's own "default" group, tagged by Terraform
            name = identity(r)
            g = next((g for g in self.groups
                      if g["GroupName"] == "default" and tags(g.get("Tags")).get("Name") == name), None)
            if g:
                values = _group(g)
                del values["name"], values["description"]
                out.append(Observed(r.address, values, {g["GroupId"]: ref(r.address)}))
        return out


def _instance(i: dict) -> dict:
    profile = (i.get("IamInstanceProfile") or {}).get("Arn", "")
    meta = i.get("MetadataOptions") or {}
    return {
        "instance_state": i["State"]["Name"],
        "instance_type": i.get("InstanceType"),
        "ami": i.get("ImageId"),
        "monitoring": (i.get("Monitoring") or {}).get("State") in ("enabled", "pending"),
        "iam_instance_profile": profile.rsplit("/", 1)[-1] if profile else None,
        "vpc_security_group_ids": [g["GroupId"] for g in i.get("SecurityGroups") or _primary(i).get("Groups", [])],
        "metadata_options": [{"http_endpoint": meta.get("HttpEndpoint"), "http_tokens": meta.get("HttpTokens")}],
        "tags": tags(i.get("Tags")),
    }


def _primary(i: dict) -> dict:
    """The instance's primary network interface (its groups are the instance's; moto reports them only there
    when the instance was launched with a network interface specification, as Terraform does)."""
    return next((n for n in i.get("NetworkInterfaces", []) if (n.get("Attachment") or {}).get("DeviceIndex") == 0),
                {})


def _instance_ids(i: dict, address: str) -> dict[str, str]:
    """The instance, and its root volume and interfaces (they carry its tags but are not separate resources)."""
    ids = [i["InstanceId"]] + [b["Ebs"]["VolumeId"] for b in i.get("BlockDeviceMappings", []) if "Ebs" in b]
    ids += [n["NetworkInterfaceId"] for n in i.get("NetworkInterfaces", [])]
    return {x: ref(address) for x in ids}


def _rules(permissions: list[dict]) -> list[dict]:
    """IpPermissions -> one Terraform-style rule block per source."""
    out = []
    for p in permissions:
        base = {"protocol": p.get("IpProtocol"), "from_port": p.get("FromPort", 0), "to_port": p.get("ToPort", 0)}
        for r in p.get("IpRanges", []):
            out.append({**base, "cidr_blocks": [r["CidrIp"]], "description": r.get("Description", "")})
        for r in p.get("Ipv6Ranges", []):
            out.append({**base, "ipv6_cidr_blocks": [r["CidrIpv6"]], "description": r.get("Description", "")})
        for r in p.get("UserIdGroupPairs", []):
            out.append({**base, "security_groups": [r["GroupId"]], "description": r.get("Description", "")})
        for r in p.get("PrefixListIds", []):
            out.append({**base, "prefix_list_ids": [r["PrefixListId"]], "description": r.get("Description", "")})
    return out


def _group(g: dict) -> dict:
    return {"name": g["GroupName"], "description": g.get("Description"), "ingress": _rules(g.get("IpPermissions", [])),
            "egress": _rules(g.get("IpPermissionsEgress", [])), "tags": tags(g.get("Tags"))}
