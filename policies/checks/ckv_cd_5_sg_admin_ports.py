"""CKV_CD_5: no security group opens SSH, RDP or a database port to the whole internet."""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

ID = "CKV_CD_5"
NAME = "No security group opens SSH, RDP or a database port to 0.0.0.0/0 or ::/0"
WHY = "administration goes through SSM and the database is reached from the app only; the internet gets 80/443"
SUPPORTED = ("aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule")
PORTS = {22: "SSH", 3389: "RDP", 5432: "PostgreSQL", 3306: "MySQL", 1433: "SQL Server"}
WORLD = {"0.0.0.0/0", "::/0"}
ALL_PROTOCOLS = {"-1", "all"}


def _one(value):
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def _strings(value):
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _port(value):
    value = _one(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


class SecurityGroupAdminPorts(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(name=NAME, id=ID, categories=[CheckCategories.NETWORKING],
                         supported_resources=list(SUPPORTED))

    def scan_resource_conf(self, conf):
        rules = []
        if self.entity_type == "aws_security_group":
            rules = [(f"ingress/[{i}]/", r) for i, r in enumerate(conf.get("ingress") or []) if isinstance(r, dict)]
        elif self.entity_type == "aws_security_group_rule":
            rules = [("", conf)] if _one(conf.get("type")) == "ingress" else []
        else:
            rules = [("", conf)]
        # the attribute named as this resource type has it: cidr_blocks in a group, cidr_ipv4 in a vpc_* rule
        key = "cidr_blocks" if self.entity_type in ("aws_security_group", "aws_security_group_rule") else "cidr_ipv4"
        self.evaluated_keys = [prefix + key for prefix, _ in rules] or ["ingress"]
        for prefix, rule in rules:
            sources = set(_strings(rule.get("cidr_blocks")) + _strings(rule.get("ipv6_cidr_blocks"))
                          + _strings(rule.get("cidr_ipv4")) + _strings(rule.get("cidr_ipv6")))
            if not sources & WORLD:
                continue
            key = next(k for k in ("cidr_blocks", "ipv6_cidr_blocks", "cidr_ipv4", "cidr_ipv6")
                       if set(_strings(rule.get(k))) & WORLD)
            protocol = str(_one(rule.get("protocol", rule.get("ip_protocol"))))
            low, high = _port(rule.get("from_port")), _port(rule.get("to_port"))
            for port, service in PORTS.items():
                every_port = protocol in ALL_PROTOCOLS or low is None or high is None or (low <= 0 and high <= 0)
                if every_port or low <= port <= high:
                    self.evaluated_keys = [prefix + key]
                    where = prefix.rstrip("/").replace("/[", "[") or "the rule"
                    world = ", ".join(sorted(sources & WORLD))
                    self.details.append(f"{where} opens port {port} ({service}) to {world}")
                    return CheckResult.FAILED
        return CheckResult.PASSED


check = SecurityGroupAdminPorts()
