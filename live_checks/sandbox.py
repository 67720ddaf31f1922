"""A local AWS (moto) holding what terraform/ declares for every environment, to practise the live checks.

    python -m live_checks.sandbox --port 5555      # then, in another shell:
    pytest -m live live_checks --aws-endpoint http://127.0.0.1:5555 --require-live

Everything is deployed from the evaluated models (core.model), never from a hand-written copy. The
deployer only ever talks to a loopback endpoint. The database gets no password: RDS manages it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3

from core.model import EnvModel, Resource, is_unknown
from live_checks.aws import FAKE_CREDENTIALS
from live_checks.expected import parse_ref

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Dependency order of everything terraform/ declares; a type not listed stops the deploy by name.
ORDER = [
    "aws_vpc", "aws_internet_gateway", "aws_subnet", "aws_route_table", "aws_route_table_association",
    "aws_security_group", "aws_default_security_group",
    "aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment",
    "aws_iam_instance_profile", "aws_s3_bucket", "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_ownership_controls", "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning", "aws_s3_bucket_lifecycle_configuration", "aws_db_subnet_group", "aws_db_instance",
    "aws_efs_file_system", "aws_efs_mount_target", "aws_cloudwatch_log_group", "aws_sns_topic",
    "aws_sns_topic_subscription", "aws_acm_certificate", "aws_acm_certificate_validation", "aws_lb",
    "aws_lb_target_group", "aws_instance", "aws_lb_target_group_attachment", "aws_lb_listener", "aws_route53_zone",
    "aws_route53_record", "aws_cloudwatch_metric_alarm", "aws_cloudwatch_dashboard",
]


class SandboxError(RuntimeError):
    pass


def configure_moto() -> None:
    """moto settings the sandbox needs; call before moto is imported (and again after, for ACM)."""
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "0")
    if "moto.settings" in sys.modules:
        sys.modules["moto.settings"].ACM_VALIDATION_WAIT = 0


def start_server(port: int = 0):
    """A moto server on 127.0.0.1 (port 0: a free one). Returns (server, endpoint URL)."""
    configure_moto()
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    configure_moto()
    host, bound = server.get_host_and_port()
    return server, f"http://{host}:{bound}"


def seed(endpoint: str, models: dict[str, EnvModel], region: str = "us-east-1") -> None:
    """Deploy every environment's model into the moto server at ``endpoint`` (loopback only)."""
    if urlparse(endpoint).hostname not in LOOPBACK:
        raise SandboxError(f"the sandbox deploys only to a local endpoint, not {endpoint}")
    session, clients = boto3.Session(region_name=region, **FAKE_CREDENTIALS), {}
    for model in models.values():
        Deployer(session, endpoint, model, clients).deploy()


def reset(endpoint: str) -> None:
    """Empty the moto server at ``endpoint`` (loopback only), e.g. before seeding it again."""
    if urlparse(endpoint).hostname not in LOOPBACK:
        raise SandboxError(f"only a local sandbox can be reset, not {endpoint}")
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")  # noqa: S310 - loopback
    urllib.request.urlopen(request, timeout=30).close()  # noqa: S310 - loopback moto server


class Deployer:
    """Creates one environment's resources with boto3, resolving references to what it created."""

    def __init__(self, session: boto3.Session, endpoint: str, model: EnvModel, clients: dict | None = None):
        self.session, self.endpoint, self.model = session, endpoint, model
        self.created: dict[str, dict[str, Any]] = {}
        self._clients: dict[str, Any] = {} if clients is None else clients

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.session.client(service, endpoint_url=self.endpoint)
        return self._clients[service]

    def deploy(self) -> None:
        unknown = {r.type for r in self.model.managed().values()} - set(ORDER)
        if unknown:
            raise SandboxError(f"the sandbox cannot deploy {sorted(unknown)}: add them to live_checks/sandbox.py")
        for rtype in ORDER:
            for r in self.model.of_type(rtype):
                self.created[r.address] = getattr(self, rtype)(r.values) or {}
            if rtype == "aws_security_group":
                for r in self.model.of_type(rtype):
                    self._rules(r)

    # ------------------------------------------------------------- helpers

    def v(self, value: Any, attribute: str = "id") -> Any:
        """A value with references replaced by what was created (``attribute`` unless the reference names one)."""
        if isinstance(value, list):
            return [self.v(x, attribute) for x in value]
        parsed = parse_ref(value)
        if parsed and parsed[0].startswith("data.aws_ssm_parameter."):
            data = next(r for r in self.model.resources.values() if r.type == "aws_ssm_parameter"
                        and r.address.endswith(parsed[0].rsplit(".", 1)[-1]))
            return self.client("ssm").get_parameter(Name=data.values["name"])["Parameter"]["Value"]
        if parsed:
            return self.created[parsed[0]][parsed[1] or attribute]
        return value

    def tags(self, values: dict) -> dict[str, str]:
        return {**self.model.default_tags, **(values.get("tags") or {})}

    def tag_list(self, values: dict) -> list[dict]:
        return [{"Key": k, "Value": str(v)} for k, v in self.tags(values).items()]

    def spec(self, kind: str, values: dict) -> list[dict]:
        return [{"ResourceType": kind, "Tags": self.tag_list(values)}]

    @staticmethod
    def block(values: dict, key: str) -> dict:
        return (values.get(key) or [{}])[0]

    # ------------------------------------------------------------- network

    def aws_vpc(self, x):
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock=x["cidr_block"], TagSpecifications=self.spec("vpc", x))["Vpc"]["VpcId"]
        for attr in ("enable_dns_support", "enable_dns_hostnames"):
            ec2.modify_vpc_attribute(VpcId=vpc, **{attr.title().replace("_", ""): {"Value": bool(x.get(attr))}})
        return {"id": vpc}

    def aws_internet_gateway(self, x):
        ec2 = self.client("ec2")
        igw = ec2.create_internet_gateway(TagSpecifications=self.spec("internet-gateway", x))["InternetGateway"]
        ec2.attach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=self.v(x["vpc_id"]))
        return {"id": igw["InternetGatewayId"]}

    def aws_subnet(self, x):
        subnet = self.client("ec2").create_subnet(VpcId=self.v(x["vpc_id"]), CidrBlock=x["cidr_block"],
                                                  AvailabilityZone=x["availability_zone"],
                                                  TagSpecifications=self.spec("subnet", x))["Subnet"]
        return {"id": subnet["SubnetId"]}

    def aws_route_table(self, x):
        ec2 = self.client("ec2")
        rt = ec2.create_route_table(VpcId=self.v(x["vpc_id"]), TagSpecifications=self.spec("route-table", x))
        rt_id = rt["RouteTable"]["RouteTableId"]
        for route in x.get("route") or []:
            ec2.create_route(RouteTableId=rt_id, DestinationCidrBlock=route["cidr_block"],
                             GatewayId=self.v(route["gateway_id"]))
        return {"id": rt_id}

    def aws_route_table_association(self, x):
        self.client("ec2").associate_route_table(SubnetId=self.v(x["subnet_id"]),
                                                 RouteTableId=self.v(x["route_table_id"]))

    def aws_security_group(self, x):
        ec2 = self.client("ec2")
        sg = ec2.create_security_group(GroupName=x["name"], Description=x.get("description", "Managed by Terraform"),
                                       VpcId=self.v(x["vpc_id"]), TagSpecifications=self.spec("security-group", x))
        # Terraform removes the egress rule AWS adds to every new group.
        ec2.revoke_security_group_egress(GroupId=sg["GroupId"], IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        return {"id": sg["GroupId"]}

    def aws_default_security_group(self, x):
        """Terraform adopts the VPC's default group, removes its rules and tags it."""
        ec2 = self.client("ec2")
        group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [self.v(x["vpc_id"])]},
                                                      {"Name": "group-name", "Values": ["default"]}])
        g = group["SecurityGroups"][0]
        if g.get("IpPermissions"):
            ec2.revoke_security_group_ingress(GroupId=g["GroupId"], IpPermissions=g["IpPermissions"])
        if g.get("IpPermissionsEgress"):
            ec2.revoke_security_group_egress(GroupId=g["GroupId"], IpPermissions=g["IpPermissionsEgress"])
        ec2.create_tags(Resources=[g["GroupId"]], Tags=self.tag_list(x))
        return {"id": g["GroupId"]}

    def _rules(self, r: Resource) -> None:
        ec2, group = self.client("ec2"), self.created[r.address]["id"]
        for key, call in (("ingress", ec2.authorize_security_group_ingress),
                          ("egress", ec2.authorize_security_group_egress)):
            for b in r.values.get(key) or []:
                d = b.get("description") or ""
                perm = {"IpProtocol": b["protocol"], "FromPort": b["from_port"], "ToPort": b["to_port"],
                        "IpRanges": [{"CidrIp": c, "Description": d} for c in b.get("cidr_blocks") or []],
                        "Ipv6Ranges": [{"CidrIpv6": c, "Description": d} for c in b.get("ipv6_cidr_blocks") or []],
                        "UserIdGroupPairs": [{"GroupId": self.v(g), "Description": d}
                                             for g in b.get("security_groups") or []]}
                call(GroupId=group, IpPermissions=[perm])

    # ------------------------------------------------------------- IAM

    def aws_iam_role(self, x):
        role = self.client("iam").create_role(RoleName=x["name"], AssumeRolePolicyDocument=x["assume_role_policy"],
                                              Tags=self.tag_list(x))["Role"]
        return {"id": role["RoleName"], "name": role["RoleName"], "arn": role["Arn"]}

    def aws_iam_role_policy(self, x):
        self.client("iam").put_role_policy(RoleName=self.v(x["role"]), PolicyName=x["name"],
                                           PolicyDocument=x["policy"])

    def aws_iam_role_policy_attachment(self, x):
        self.client("iam").attach_role_policy(RoleName=self.v(x["role"]), PolicyArn=x["policy_arn"])

    def aws_iam_instance_profile(self, x):
        iam = self.client("iam")
        profile = iam.create_instance_profile(InstanceProfileName=x["name"], Tags=self.tag_list(x))["InstanceProfile"]
        iam.add_role_to_instance_profile(InstanceProfileName=x["name"], RoleName=self.v(x["role"]))
        return {"id": x["name"], "name": x["name"], "arn": profile["Arn"]}

    # ------------------------------------------------------------- S3

    def aws_s3_bucket(self, x):
        s3, name = self.client("s3"), x["bucket"]
        region = self.session.region_name
        s3.create_bucket(Bucket=name, **({} if region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}))
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": self.tag_list(x)})
        return {"id": name, "bucket": name, "arn": f"arn:aws:s3:::{name}"}

    def aws_s3_bucket_public_access_block(self, x):
        keys = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        self.client("s3").put_public_access_block(Bucket=self.v(x["bucket"]), PublicAccessBlockConfiguration={
            k.title().replace("_", ""): bool(x.get(k)) for k in keys})

    def aws_s3_bucket_ownership_controls(self, x):
        self.client("s3").put_bucket_ownership_controls(Bucket=self.v(x["bucket"]), OwnershipControls={
            "Rules": [{"ObjectOwnership": r["object_ownership"]} for r in x["rule"]]})

    def aws_s3_bucket_server_side_encryption_configuration(self, x):
        rules = []
        for r in x["rule"]:
            default = self.block(r, "apply_server_side_encryption_by_default")
            by_default = {"SSEAlgorithm": default["sse_algorithm"]}
            if default.get("kms_master_key_id"):
                by_default["KMSMasterKeyID"] = default["kms_master_key_id"]
            rules.append({"ApplyServerSideEncryptionByDefault": by_default,
                          "BucketKeyEnabled": bool(r.get("bucket_key_enabled"))})
        self.client("s3").put_bucket_encryption(Bucket=self.v(x["bucket"]),
                                                ServerSideEncryptionConfiguration={"Rules": rules})

    def aws_s3_bucket_versioning(self, x):
        self.client("s3").put_bucket_versioning(Bucket=self.v(x["bucket"]), VersioningConfiguration={
            "Status": self.block(x, "versioning_configuration")["status"]})

    def aws_s3_bucket_lifecycle_configuration(self, x):
        rules = []
        for n, r in enumerate(x["rule"]):
            # core.model drops nested attributes named "id" (reported); a stand-in keeps the rule deployable.
            rule = {"ID": r.get("id") or f"rule-{n}", "Status": r["status"], "Filter": {"Prefix": ""}}
            if r.get("noncurrent_version_expiration"):
                rule["NoncurrentVersionExpiration"] = {
                    "NoncurrentDays": self.block(r, "noncurrent_version_expiration")["noncurrent_days"]}
            if r.get("abort_incomplete_multipart_upload"):
                rule["AbortIncompleteMultipartUpload"] = {
                    "DaysAfterInitiation": self.block(r, "abort_incomplete_multipart_upload")["days_after_initiation"]}
            rules.append(rule)
        self.client("s3").put_bucket_lifecycle_configuration(Bucket=self.v(x["bucket"]),
                                                             LifecycleConfiguration={"Rules": rules})

    # ------------------------------------------------------------- RDS, EFS

    def aws_db_subnet_group(self, x):
        self.client("rds").create_db_subnet_group(
            DBSubnetGroupName=x["name"], DBSubnetGroupDescription=x.get("description") or "Managed by Terraform",
            SubnetIds=self.v(x["subnet_ids"]), Tags=self.tag_list(x))
        return {"id": x["name"], "name": x["name"]}

    def aws_db_instance(self, x):
        db = self.client("rds").create_db_instance(
            DBInstanceIdentifier=x["identifier"], Engine=x["engine"], EngineVersion=x["engine_version"],
            DBInstanceClass=x["instance_class"], AllocatedStorage=x["allocated_storage"],
            StorageType=x["storage_type"], StorageEncrypted=bool(x.get("storage_encrypted")), DBName=x["db_name"],
            MasterUsername=x["username"], ManageMasterUserPassword=True, Port=x["port"],
            DBSubnetGroupName=self.v(x["db_subnet_group_name"]),
            VpcSecurityGroupIds=self.v(x["vpc_security_group_ids"]), PubliclyAccessible=x["publicly_accessible"],
            MultiAZ=x["multi_az"], BackupRetentionPeriod=x["backup_retention_period"],
            PreferredBackupWindow=x["backup_window"], PreferredMaintenanceWindow=x["maintenance_window"],
            AutoMinorVersionUpgrade=x["auto_minor_version_upgrade"], CopyTagsToSnapshot=x["copy_tags_to_snapshot"],
            DeletionProtection=bool(x["deletion_protection"]), Tags=self.tag_list(x))["DBInstance"]
        return {"id": db["DBInstanceIdentifier"], "identifier": db["DBInstanceIdentifier"],
                "arn": db["DBInstanceArn"]}

    def aws_efs_file_system(self, x):
        efs = self.client("efs")
        fs = efs.create_file_system(CreationToken=x["creation_token"], Encrypted=bool(x.get("encrypted")),
                                    PerformanceMode=x["performance_mode"], ThroughputMode=x["throughput_mode"],
                                    Tags=self.tag_list(x))
        policies = [{"TransitionToIA": p["transition_to_ia"]} for p in x.get("lifecycle_policy") or []]
        if policies:
            efs.put_lifecycle_configuration(FileSystemId=fs["FileSystemId"], LifecyclePolicies=policies)
        return {"id": fs["FileSystemId"], "arn": fs.get("FileSystemArn")}

    def aws_efs_mount_target(self, x):
        mt = self.client("efs").create_mount_target(FileSystemId=self.v(x["file_system_id"]),
                                                    SubnetId=self.v(x["subnet_id"]),
                                                    SecurityGroups=self.v(x["security_groups"]))
        return {"id": mt["MountTargetId"]}

    # ------------------------------------------------------------- monitoring

    def aws_cloudwatch_log_group(self, x):
        logs = self.client("logs")
        logs.create_log_group(logGroupName=x["name"], tags=self.tags(x))
        if x.get("retention_in_days"):
            logs.put_retention_policy(logGroupName=x["name"], retentionInDays=x["retention_in_days"])
        return {"id": x["name"], "name": x["name"]}

    def aws_sns_topic(self, x):
        attributes = {"KmsMasterKeyId": x["kms_master_key_id"]} if x.get("kms_master_key_id") else {}
        arn = self.client("sns").create_topic(Name=x["name"], Attributes=attributes,
                                              Tags=self.tag_list(x))["TopicArn"]
        return {"id": arn, "arn": arn, "name": x["name"]}

    def aws_sns_topic_subscription(self, x):
        self.client("sns").subscribe(TopicArn=self.v(x["topic_arn"], "arn"), Protocol=x["protocol"],
                                     Endpoint=x["endpoint"])

    def aws_cloudwatch_metric_alarm(self, x):
        dims = x.get("dimensions")
        dimensions = [{"Name": k, "Value": str(self.v(v, "arn_suffix"))} for k, v in dims.items()] \
            if isinstance(dims, dict) else []  # unknown before apply in the model: not deployed
        self.client("cloudwatch").put_metric_alarm(
            AlarmName=x["alarm_name"], AlarmDescription=x.get("alarm_description", ""), Namespace=x["namespace"],
            MetricName=x["metric_name"], Statistic=x["statistic"], Threshold=float(x["threshold"]),
            ComparisonOperator=x["comparison_operator"], Period=x["period"],
            EvaluationPeriods=x["evaluation_periods"], TreatMissingData=x.get("treat_missing_data", "missing"),
            AlarmActions=self.v(x.get("alarm_actions") or [], "arn"),
            OKActions=self.v(x.get("ok_actions") or [], "arn"),
            Dimensions=dimensions, Tags=self.tag_list(x))

    def aws_cloudwatch_dashboard(self, x):
        self.client("cloudwatch").put_dashboard(DashboardName=x["dashboard_name"], DashboardBody=x["dashboard_body"])

    # ------------------------------------------------------------- load balancing, instances

    def aws_lb(self, x):
        elb = self.client("elbv2")
        lb = elb.create_load_balancer(Name=x["name"], Subnets=self.v(x["subnets"]),
                                      SecurityGroups=self.v(x["security_groups"]),
                                      Scheme="internal" if x.get("internal") else "internet-facing",
                                      Type=x.get("load_balancer_type", "application"),
                                      Tags=self.tag_list(x))["LoadBalancers"][0]
        elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": "deletion_protection.enabled", "Value": str(bool(x.get("enable_deletion_protection"))).lower()},
            {"Key": "routing.http.drop_invalid_header_fields.enabled",
             "Value": str(bool(x.get("drop_invalid_header_fields"))).lower()}])
        arn = lb["LoadBalancerArn"]
        return {"id": arn, "arn": arn, "arn_suffix": arn.split(":loadbalancer/")[-1], "dns_name": lb["DNSName"],
                "zone_id": lb["CanonicalHostedZoneId"], "name": x["name"]}

    def aws_lb_target_group(self, x):
        elb, hc = self.client("elbv2"), self.block(x, "health_check")
        tg = elb.create_target_group(
            Name=x["name"], Protocol=x["protocol"], Port=x["port"], VpcId=self.v(x["vpc_id"]),
            TargetType=x.get("target_type", "instance"), HealthCheckEnabled=hc.get("enabled", True),
            HealthCheckPath=hc["path"], HealthCheckProtocol=hc["protocol"], HealthCheckPort=str(hc["port"]),
            HealthCheckIntervalSeconds=hc["interval"], HealthCheckTimeoutSeconds=hc["timeout"],
            HealthyThresholdCount=hc["healthy_threshold"], UnhealthyThresholdCount=hc["unhealthy_threshold"],
            Matcher={"HttpCode": hc["matcher"]}, Tags=self.tag_list(x))["TargetGroups"][0]
        if x.get("deregistration_delay") is not None:
            elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
                {"Key": "deregistration_delay.timeout_seconds", "Value": str(x["deregistration_delay"])}])
        arn = tg["TargetGroupArn"]
        return {"id": arn, "arn": arn, "arn_suffix": arn.split(":")[-1], "name": x["name"]}

    def aws_instance(self, x):
        meta, root = self.block(x, "metadata_options"), self.block(x, "root_block_device")
        params = {
            "ImageId": self.v(x["ami"]), "InstanceType": x["instance_type"], "MinCount": 1, "MaxCount": 1,
            "SubnetId": self.v(x["subnet_id"]), "SecurityGroupIds": self.v(x["vpc_security_group_ids"]),
            "Monitoring": {"Enabled": bool(x.get("monitoring"))}, "TagSpecifications": self.spec("instance", x),
            "MetadataOptions": {"HttpEndpoint": meta.get("http_endpoint", "enabled"),
                                "HttpTokens": meta.get("http_tokens", "optional")},
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {
                "VolumeSize": root.get("volume_size", 8), "VolumeType": root.get("volume_type", "gp3"),
                "Encrypted": bool(root.get("encrypted"))}}],
        }
        if x.get("iam_instance_profile"):
            params["IamInstanceProfile"] = {"Name": self.v(x["iam_instance_profile"], "name")}
        if isinstance(x.get("user_data"), str) and not is_unknown(x["user_data"]):
            params["UserData"] = x["user_data"]
        instance = self.client("ec2").run_instances(**params)["Instances"][0]
        return {"id": instance["InstanceId"]}

    def aws_lb_target_group_attachment(self, x):
        self.client("elbv2").register_targets(TargetGroupArn=self.v(x["target_group_arn"], "arn"), Targets=[
            {"Id": self.v(x["target_id"]), "Port": x["port"]}])

    def aws_lb_listener(self, x):
        actions = []
        for n, a in enumerate(x["default_action"], 1):
            action = {"Type": a["type"], "Order": n}
            if a["type"] == "forward":
                action["TargetGroupArn"] = self.v(a["target_group_arn"], "arn")
            if a["type"] == "redirect":
                r = self.block(a, "redirect")
                action["RedirectConfig"] = {"Port": str(r["port"]), "Protocol": r["protocol"],
                                            "StatusCode": r["status_code"]}
            actions.append(action)
        params = {"LoadBalancerArn": self.v(x["load_balancer_arn"], "arn"), "Protocol": x["protocol"],
                  "Port": x["port"], "DefaultActions": actions, "Tags": self.tag_list(x)}
        if x.get("certificate_arn"):
            params["Certificates"] = [{"CertificateArn": self.v(x["certificate_arn"], "arn")}]
        if x.get("ssl_policy"):
            params["SslPolicy"] = x["ssl_policy"]
        arn = self.client("elbv2").create_listener(**params)["Listeners"][0]["ListenerArn"]
        return {"id": arn, "arn": arn}

    # ------------------------------------------------------------- DNS, certificates

    def aws_acm_certificate(self, x):
        arn = self.client("acm").request_certificate(DomainName=x["domain_name"],
                                                     ValidationMethod=x.get("validation_method", "DNS"),
                                                     Tags=self.tag_list(x))["CertificateArn"]
        return {"id": arn, "arn": arn}

    def aws_acm_certificate_validation(self, x):
        arn = self.v(x["certificate_arn"], "arn")  # moto issues DNS-validated certificates by itself
        return {"id": arn, "arn": arn, "certificate_arn": arn}

    def aws_route53_zone(self, x):
        r53 = self.client("route53")
        zone = r53.create_hosted_zone(Name=x["name"], CallerReference=str(uuid.uuid4()))["HostedZone"]
        zone_id = zone["Id"].split("/")[-1]
        r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id, AddTags=self.tag_list(x))
        return {"id": zone_id, "zone_id": zone_id}

    def aws_route53_record(self, x):
        record = {"Name": x["name"], "Type": x["type"]}
        alias = self.block(x, "alias")
        if alias:
            record["AliasTarget"] = {"HostedZoneId": self.v(alias["zone_id"], "zone_id"),
                                     "DNSName": self.v(alias["name"], "dns_name"),
                                     "EvaluateTargetHealth": bool(alias.get("evaluate_target_health"))}
        else:
            record.update(TTL=x.get("ttl", 300), ResourceRecords=[{"Value": v} for v in x.get("records") or []])
        self.client("route53").change_resource_record_sets(HostedZoneId=self.v(x["zone_id"], "zone_id"), ChangeBatch={
            "Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]})


# ----------------------------------------------------------------------------- command line


def load_models(tf_dir: str, contract_path: str) -> dict[str, EnvModel]:
    from core.contract import load_contract
    from core.model import load

    contract = load_contract(contract_path, tf_dir)
    return {name: load(tf_dir, env) for name, env in contract.environments.items()}


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(prog="python -m live_checks.sandbox", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=5555, help="port on 127.0.0.1 (default 5555)")
    parser.add_argument("--tf-dir", default=str(root / "terraform"))
    parser.add_argument("--contract", default=str(root / "parity" / "contract.yaml"))
    args = parser.parse_args(argv)

    models = load_models(args.tf_dir, args.contract)
    server, endpoint = start_server(args.port)
    try:
        seed(endpoint, models)
    except Exception:
        server.stop()
        raise
    print(f"AWS endpoint: {endpoint}", flush=True)
    print(f"Deployed {', '.join(models)} from {args.tf_dir}. Try:\n"
          f"  pytest -m live live_checks --aws-endpoint {endpoint} --require-live\n"
          f"  AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox aws --endpoint-url {endpoint} "
          f"--region us-east-1 ec2 describe-instances\n"
          "Stop with Ctrl-C.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
