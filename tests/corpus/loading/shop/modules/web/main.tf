data "aws_region" "current" {}

resource "aws_instance" "this" {
  ami                    = "ami-0123456789abcdef0"
  instance_type          = var.instance_type
  vpc_security_group_ids = [var.security_group]
  monitoring             = true

  metadata_options {
    http_tokens = "required"
  }

  root_block_device {
    volume_size = 20
    volume_type = "gp3"
    encrypted   = true
  }

  tags = { Name = var.name }
}

resource "aws_s3_bucket" "assets" {
  bucket = "${var.name}-assets"
  tags   = { Name = "${var.name}-assets" }
}

resource "aws_s3_bucket_versioning" "assets" {
  bucket = aws_s3_bucket.assets.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_cloudwatch_metric_alarm" "cpu" {
  alarm_name          = "${var.name}-cpu"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 2
  metric_name         = "CPUUtilization"
  namespace           = "AWS/EC2"
  period              = 300
  statistic           = "Average"
  threshold           = 80
  dimensions          = { InstanceId = aws_instance.this.id }
}

module "logs" {
  source         = "./modules/logs"
  name           = var.name
  retention_days = var.retention_days
}
