"""ELBv2: the load balancer, its target groups (health checks, registered targets) and listeners."""

from __future__ import annotations

from core.model import EnvModel
from live_checks.expected import parse_ref, resolve
from live_checks.inventory.base import EXTRA, Inventory, Observed, ref, tags


class Elb(Inventory):
    service = "elbv2"

    def fetch(self) -> None:
        lbs = [lb for lb in self.pages("describe_load_balancers", "LoadBalancers")
               if lb["LoadBalancerName"] in self.wanted.get("aws_lb", set())]
        tgs = [tg for tg in self.pages("describe_target_groups", "TargetGroups")
               if tg["TargetGroupName"] in self.wanted.get("aws_lb_target_group", set())]
        self.tags = {}
        arns = [x["LoadBalancerArn"] for x in lbs] + [x["TargetGroupArn"] for x in tgs]
        for start in range(0, len(arns), 20):
            answer = self.call("describe_tags", ResourceArns=arns[start:start + 20])
            self.tags.update({d["ResourceArn"]: tags(d.get("Tags")) for d in answer["TagDescriptions"]})

        def lb_details(lb):
            attrs = self.call("describe_load_balancer_attributes", LoadBalancerArn=lb["LoadBalancerArn"])
            lb["attributes"] = {a["Key"]: a["Value"] for a in attrs["Attributes"]}
            lb["listeners"] = list(self.pages("describe_listeners", "Listeners", LoadBalancerArn=lb["LoadBalancerArn"]))

        def tg_targets(tg):
            health = self.call("describe_target_health", TargetGroupArn=tg["TargetGroupArn"])
            tg["targets"] = [d["Target"] for d in health["TargetHealthDescriptions"]]

        self.each(lb_details, lbs)
        self.each(tg_targets, tgs)
        self.lbs = {lb["LoadBalancerName"]: lb for lb in lbs}
        self.tgs = {tg["TargetGroupName"]: tg for tg in tgs}

    def observe(self, model: EnvModel) -> list[Observed]:
        out = []
        for r in model.of_type("aws_lb"):
            lb = self.lbs.get(r.values.get("name"))
            if lb:
                out.append(Observed(r.address, self._lb(lb), {
                    lb["LoadBalancerArn"]: ref(r.address), lb["LoadBalancerArn"].split(":loadbalancer/")[-1]:
                    ref(r.address, "arn_suffix"), lb["DNSName"].lower(): ref(r.address, "dns_name")}))
                out += self._listeners(model, r.address, lb)
        for r in model.of_type("aws_lb_target_group"):
            tg = self.tgs.get(r.values.get("name"))
            if tg:
                out.append(Observed(r.address, self._tg(tg), {
                    tg["TargetGroupArn"]: ref(r.address), tg["TargetGroupArn"].split(":")[-1]:
                    ref(r.address, "arn_suffix")}))
        return out

    def _lb(self, lb: dict) -> dict:
        a = lb["attributes"]
        return {"name": lb["LoadBalancerName"], "internal": lb.get("Scheme") == "internal",
                "load_balancer_type": lb.get("Type"), "security_groups": lb.get("SecurityGroups", []),
                "enable_deletion_protection": a.get("deletion_protection.enabled") == "true",
                "drop_invalid_header_fields": a.get("routing.http.drop_invalid_header_fields.enabled") == "true",
                "tags": self.tags.get(lb["LoadBalancerArn"], {})}

    def _tg(self, tg: dict) -> dict:
        health = {"enabled": tg.get("HealthCheckEnabled"), "path": tg.get("HealthCheckPath"),
                  "protocol": tg.get("HealthCheckProtocol"), "port": tg.get("HealthCheckPort"),
                  "matcher": (tg.get("Matcher") or {}).get("HttpCode"),
                  "interval": tg.get("HealthCheckIntervalSeconds"), "timeout": tg.get("HealthCheckTimeoutSeconds"),
                  "healthy_threshold": tg.get("HealthyThresholdCount"),
                  "unhealthy_threshold": tg.get("UnhealthyThresholdCount")}
        return {"name": tg["TargetGroupName"], "port": tg.get("Port"), "protocol": tg.get("Protocol"),
                "target_type": tg.get("TargetType"), "health_check": [health],
                "targets": [{"target_id": t["Id"], "port": t.get("Port")} for t in tg["targets"]],
                "tags": self.tags.get(tg["TargetGroupArn"], {})}

    @staticmethod
    def _listeners(model: EnvModel, lb_address: str, lb: dict) -> list[Observed]:
        """Listeners are found by port on their load balancer; one Terraform does not declare is an extra."""
        declared = {r.values.get("port"): r.address for r in model.of_type("aws_lb_listener")
                    if (parse_ref(r.values.get("load_balancer_arn")) or ("",))[0] == lb_address
                    or resolve(model, r.values.get("load_balancer_arn"), "name") == lb["LoadBalancerName"]}
        out = []
        for listener in lb["listeners"]:
            port = listener.get("Port")
            address = declared.get(port, f"aws_lb_listener.{EXTRA}[{port}]")
            certificates = [c["CertificateArn"] for c in listener.get("Certificates") or []]
            actions = []
            for a in sorted(listener.get("DefaultActions", []), key=lambda a: a.get("Order", 0)):
                action = {"type": a["Type"], "target_group_arn": a.get("TargetGroupArn")}
                if a.get("RedirectConfig"):
                    rc = a["RedirectConfig"]
                    action["redirect"] = [{"port": rc.get("Port"), "protocol": rc.get("Protocol"),
                                           "status_code": rc.get("StatusCode")}]
                actions.append(action)
            values = {"port": port, "protocol": listener.get("Protocol"), "ssl_policy": listener.get("SslPolicy"),
                      "certificate_arn": certificates[0] if certificates else None, "default_action": actions}
            out.append(Observed(address, values, {listener["ListenerArn"]: ref(address)}))
        return out
