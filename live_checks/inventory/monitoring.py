"""CloudWatch alarms and dashboards, log groups, and the SNS alert topic with its subscriptions."""

from __future__ import annotations

from core.model import EnvModel
from live_checks.expected import parse_ref
from live_checks.inventory.base import Inventory, Observed, ref, tags


class CloudWatch(Inventory):
    service = "cloudwatch"

    def fetch(self) -> None:
        self.alarms = {a["AlarmName"]: a for a in self.pages("describe_alarms", "MetricAlarms")}
        self.dashboards = {d["DashboardName"] for d in self.pages("list_dashboards", "DashboardEntries")}

        def alarm_tags(alarm):
            alarm["tags"] = tags(self.call("list_tags_for_resource", ResourceARN=alarm["AlarmArn"])["Tags"])

        self.each(alarm_tags, [a for n, a in self.alarms.items()
                               if n in self.wanted.get("aws_cloudwatch_metric_alarm", set())])

    def observe(self, model: EnvModel) -> list[Observed]:
        out = []
        for r in model.of_type("aws_cloudwatch_metric_alarm"):
            a = self.alarms.get(r.values.get("alarm_name"))
            if a:
                out.append(Observed(r.address, {
                    "alarm_name": a["AlarmName"], "alarm_description": a.get("AlarmDescription"),
                    "namespace": a.get("Namespace"), "metric_name": a.get("MetricName"),
                    "statistic": a.get("Statistic"), "threshold": a.get("Threshold"),
                    "comparison_operator": a.get("ComparisonOperator"), "period": a.get("Period"),
                    "evaluation_periods": a.get("EvaluationPeriods"), "treat_missing_data": a.get("TreatMissingData"),
                    "alarm_actions": a.get("AlarmActions", []), "ok_actions": a.get("OKActions", []),
                    "dimensions": {d["Name"]: d["Value"] for d in a.get("Dimensions", [])},
                    "tags": a.get("tags", {})}, {a["AlarmArn"]: ref(r.address)}))
        for r in model.of_type("aws_cloudwatch_dashboard"):
            if r.values.get("dashboard_name") in self.dashboards:
                out.append(Observed(r.address, {"dashboard_name": r.values["dashboard_name"]}))
        return out


class Logs(Inventory):
    service = "logs"

    def fetch(self) -> None:
        self.groups = {g["logGroupName"]: g for g in self.pages("describe_log_groups", "logGroups")}

        def group_tags(group):
            arn = group["arn"].removesuffix(":*")
            group["tags"] = tags(self.call("list_tags_for_resource", resourceArn=arn)["tags"])

        self.each(group_tags, [g for n, g in self.groups.items()
                               if n in self.wanted.get("aws_cloudwatch_log_group", set())])

    def observe(self, model: EnvModel) -> list[Observed]:
        out = []
        for r in model.of_type("aws_cloudwatch_log_group"):
            g = self.groups.get(r.values.get("name"))
            if g:
                out.append(Observed(r.address, {"name": g["logGroupName"], "retention_in_days": g.get(
                    "retentionInDays"), "tags": g.get("tags", {})}, {g["arn"].removesuffix(":*"): ref(r.address)}))
        return out


class Sns(Inventory):
    service = "sns"

    def fetch(self) -> None:
        wanted = self.wanted.get("aws_sns_topic", set())
        self.topics = {t["TopicArn"].rsplit(":", 1)[-1]: {"arn": t["TopicArn"]}
                       for t in self.pages("list_topics", "Topics")}

        def details(topic):
            arn = topic["arn"]
            topic["attributes"] = self.call("get_topic_attributes", TopicArn=arn)["Attributes"]
            topic["subscriptions"] = list(self.pages("list_subscriptions_by_topic", "Subscriptions", TopicArn=arn))
            topic["tags"] = tags(self.call("list_tags_for_resource", ResourceArn=arn)["Tags"])

        self.each(details, [t for n, t in self.topics.items() if n in wanted])

    def observe(self, model: EnvModel) -> list[Observed]:
        out = []
        for r in model.of_type("aws_sns_topic"):
            t = self.topics.get(r.values.get("name"))
            if not t:
                continue
            out.append(Observed(r.address, {"name": r.values["name"], "tags": t["tags"], "kms_master_key_id": t[
                "attributes"].get("KmsMasterKeyId"), "subscriptions": sorted(  # every one, declared or not
                    f"{sub.get('Protocol')}:{sub.get('Endpoint')}" for sub in t["subscriptions"])},
                {t["arn"]: ref(r.address)}))
            for s in model.of_type("aws_sns_topic_subscription"):
                if (parse_ref(s.values.get("topic_arn")) or ("",))[0] != r.address:
                    continue
                for sub in t["subscriptions"]:
                    wanted = (s.values.get("protocol"), s.values.get("endpoint"))
                    if (sub.get("Protocol"), sub.get("Endpoint")) == wanted:
                        out.append(Observed(s.address, {"protocol": sub["Protocol"], "endpoint": sub["Endpoint"],
                                                        "topic_arn": ref(r.address)}))
                        break
        return out
