# A two-environment root module (production: workspace default; staging: workspace staging +
# staging.tfvars) with the value traps of issue 8: templatefile() user_data, heredocs mixing known and
# unknown parts, the ACM validation for_each, random_password and uuid().

terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

provider "aws" {
  region = "us-east-1"
}

variable "environment" {
  type    = string
  default = "production"
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

variable "enable_ssl" {
  type    = bool
  default = true
}

variable "domain_name" {
  type    = string
  default = "app.example.com"
}

locals {
  name        = "corpus-${var.environment}"
  ssl_enabled = var.enable_ssl
  user_data = templatefile("${path.module}/user_data.tftpl", {
    environment = var.environment
    workspace   = terraform.workspace
    port        = 8080
    ports       = [22, 443]
    account     = data.aws_caller_identity.me.account_id
  })
}

data "aws_caller_identity" "me" {}

resource "aws_vpc" "main" {
  cidr_block = "10.20.0.0/16"
  tags       = { Name = "${local.name}-vpc" }
}

resource "aws_security_group" "app" {
  name   = "${local.name}-app"
  vpc_id = aws_vpc.main.id
  tags   = { Name = "${local.name}-app", Vpc = "in ${aws_vpc.main.id} for ${var.environment}" }
}

resource "aws_instance" "app" {
  ami           = "ami-12345678"
  instance_type = var.instance_type
  user_data     = local.user_data
  tags = {
    Name    = "${local.name}-app"
    Account = "${data.aws_caller_identity.me.account_id}-${var.environment}"
  }
}

resource "aws_ssm_parameter" "bootstrap" {
  name  = "/${local.name}/bootstrap"
  type  = "String"
  value = <<-EOT
    environment=${var.environment}
    security_group=${aws_security_group.app.id}
    account=${data.aws_caller_identity.me.account_id}
  EOT
}

resource "aws_ssm_parameter" "run_id" {
  name  = "/${local.name}/run-id"
  type  = "String"
  value = "run-${uuid()}"
}

resource "aws_acm_certificate" "main" {
  count             = local.ssl_enabled ? 1 : 0
  domain_name       = var.domain_name
  validation_method = "DNS"
}

resource "aws_route53_zone" "main" {
  count = local.ssl_enabled ? 1 : 0
  name  = var.domain_name
}

resource "aws_route53_record" "cert_validation" {
  for_each = {
    for dvo in(local.ssl_enabled ? aws_acm_certificate.main[0].domain_validation_options : []) :
    dvo.domain_name => dvo
  }

  zone_id = aws_route53_zone.main[0].zone_id
  name    = each.value.resource_record_name
  type    = each.value.resource_record_type
  records = [each.value.resource_record_value]
  ttl     = 60
}

output "user_data" {
  value = templatefile("${path.module}/user_data.tftpl", {
    environment = var.environment
    workspace   = terraform.workspace
    port        = 8080
    ports       = var.environment == "production" ? [443] : [80, 443]
    account     = "fixed"
  })
}

output "greeting" {
  value = <<-EOT
    Hello ${upper(var.environment)} from ${terraform.workspace}
    name: ${local.name}
  EOT
}

output "vpc_note" {
  value = "vpc ${aws_vpc.main.id} in ${var.environment}"
}

output "run_id" {
  value = "run-${uuid()}"
}
