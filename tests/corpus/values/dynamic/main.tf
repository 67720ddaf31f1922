# Dynamic blocks as real configurations write them: before and after static blocks of the same and other
# types, inside a static block, inside another dynamic block, with an iterator. Production: workspace
# default; staging: workspace staging + staging.tfvars.

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

variable "public_ports" {
  type    = map(number)
  default = { http = 80, https = 443 }
}

variable "redirect_to_https" {
  type    = bool
  default = true
}

variable "archive_after_days" {
  type    = list(number)
  default = [30, 90]
}

locals {
  name = "dyn-${var.environment}"
  lifecycle_rules = [
    { id = "logs", prefix = "logs/", transitions = [for d in var.archive_after_days : { days = d, class = d < 60 ? "STANDARD_IA" : "GLACIER" }] },
    { id = "tmp", prefix = "tmp/", transitions = [] },
  ]
}

resource "aws_vpc" "main" {
  cidr_block = "10.30.0.0/16"
}

resource "aws_security_group" "web" {
  name   = "${local.name}-web"
  vpc_id = aws_vpc.main.id

  dynamic "ingress" {
    for_each = var.public_ports
    content {
      description = "public ${ingress.key}"
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }

  ingress {
    description = "health checks"
    from_port   = 8080
    to_port     = 8080
    protocol    = "tcp"
    cidr_blocks = ["10.30.0.0/16"]
  }

  egress {
    description = "all out"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_s3_bucket" "logs" {
  bucket = "${local.name}-logs-bucket"
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  dynamic "rule" {
    for_each = local.lifecycle_rules
    iterator = r
    content {
      id     = r.value.id
      status = "Enabled"

      filter {
        prefix = r.value.prefix
      }

      dynamic "transition" {
        for_each = r.value.transitions
        content {
          days          = transition.value.days
          storage_class = transition.value.class
        }
      }

      expiration {
        days = 365
      }
    }
  }
}

resource "aws_lb" "main" {
  name               = "${local.name}-alb"
  load_balancer_type = "application"
  subnets            = ["subnet-00000001", "subnet-00000002"]
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = var.redirect_to_https ? "redirect" : "fixed-response"

    dynamic "redirect" {
      for_each = var.redirect_to_https ? [443] : []
      content {
        port        = tostring(redirect.value)
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }

    dynamic "fixed_response" {
      for_each = var.redirect_to_https ? [] : ["ok"]
      content {
        content_type = "text/plain"
        message_body = fixed_response.value
        status_code  = "200"
      }
    }
  }
}
