"""Route53 zones and records, ACM certificates: the Domain/SSL part, where SSL is enabled.

Hosted zones' tags are read here: the tagging API never returns Route53 zones.
"""

from __future__ import annotations

from core.model import EnvModel
from live_checks.expected import parse_ref
from live_checks.inventory.base import Inventory, Observed, ref, tags


def _host(name: str) -> str:
    return (name or "").lower().rstrip(".").removeprefix("dualstack.")


class Route53(Inventory):
    service = "route53"

    def fetch(self) -> None:
        zones = list(self.pages("list_hosted_zones", "HostedZones"))
        ids = [z["Id"].split("/")[-1] for z in zones]
        found = {}
        for start in range(0, len(ids), 10):
            answer = self.call("list_tags_for_resources", ResourceType="hostedzone", ResourceIds=ids[start:start + 10])
            found.update({t["ResourceId"]: tags(t.get("Tags")) for t in answer["ResourceTagSets"]})
        for z in zones:
            z["tags"] = found.get(z["Id"].split("/")[-1], {})

        def records(zone):
            zone["records"] = list(self.pages("list_resource_record_sets", "ResourceRecordSets",
                                              HostedZoneId=zone["Id"]))

        self.each(records, [z for z in zones if _host(z["Name"]) in self.wanted.get("aws_route53_zone", set())])
        self.zones = {_host(z["Name"]): z for z in zones}

    def observe(self, model: EnvModel) -> list[Observed]:
        out = []
        for r in model.of_type("aws_route53_zone"):
            zone = self.zones.get(_host(r.values.get("name")))
            if not zone:
                continue
            zone_id = zone["Id"].split("/")[-1]
            out.append(Observed(r.address, {"name": _host(zone["Name"]), "tags": zone["tags"]},
                                {zone_id: ref(r.address), f"arn:aws:route53:::hostedzone/{zone_id}": ref(r.address)}))
            for rec in model.of_type("aws_route53_record"):
                if (parse_ref(rec.values.get("zone_id")) or ("",))[0] != r.address:
                    continue
                for s in zone.get("records", []):
                    if (_host(s["Name"]), s["Type"]) == (_host(rec.values.get("name")), rec.values.get("type")):
                        alias = s.get("AliasTarget")
                        out.append(Observed(rec.address, {
                            "name": _host(s["Name"]), "type": s["Type"],
                            "alias": [{"name": _host(alias["DNSName"]), "evaluate_target_health": alias.get(
                                "EvaluateTargetHealth")}] if alias else []}))
        return out


class Acm(Inventory):
    service = "acm"

    def fetch(self) -> None:
        wanted = self.wanted.get("aws_acm_certificate", set())
        summaries = [c for c in self.pages("list_certificates", "CertificateSummaryList") if c["DomainName"] in wanted]
        self.certificates = self.each(lambda c: self.call("describe_certificate", CertificateArn=c["CertificateArn"])[
            "Certificate"], summaries)

    def observe(self, model: EnvModel) -> list[Observed]:
        out = []
        for r in model.of_type("aws_acm_certificate"):
            mine = [c for c in self.certificates if c["DomainName"] == r.values.get("domain_name")]
            # Prefer an issued certificate, then the newest: the one Terraform's listener would use.
            mine.sort(key=lambda c: (c.get("Status") == "ISSUED", str(c.get("CreatedAt", ""))), reverse=True)
            if not mine:
                continue
            c = mine[0]
            methods = {o.get("ValidationMethod") for o in c.get("DomainValidationOptions", [])} - {None}
            out.append(Observed(r.address, {"domain_name": c["DomainName"], "status": c.get("Status"),
                                            "validation_method": next(iter(methods), None)},
                                {c["CertificateArn"]: ref(r.address)}))
            for v in model.of_type("aws_acm_certificate_validation"):
                issued = c.get("Status") == "ISSUED"
                if issued and (parse_ref(v.values.get("certificate_arn")) or ("",))[0] == r.address:
                    out.append(Observed(v.address, {"certificate_arn": ref(r.address)}))
        return out
