data "aws_ssm_parameter" "ami" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

locals {
  boot = <<-EOT
    #!/bin/bash
    set -euo pipefail
    dnf install -y docker
    systemctl enable --now docker
    docker run -d --restart unless-stopped -p 8080:8080 \
      -e SHOP_ENV=${var.env_name} -e ASSETS_BUCKET=${var.assets_bucket} \
      --log-driver awslogs --log-opt awslogs-group=${local.log_group} \
      ${var.shop_image}:${var.shop_version}
  EOT
}

resource "aws_launch_template" "web" {
  name          = "${local.prefix}-web"
  image_id      = data.aws_ssm_parameter.ami.value
  instance_type = var.web_instance_type
  key_name      = var.login_pair
  user_data     = base64encode(local.boot)

  vpc_security_group_ids = [aws_security_group.web.id]

  iam_instance_profile {
    name = aws_iam_instance_profile.web.name
  }

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size = 10
      volume_type = "gp3"
      encrypted   = true
    }
  }
}

resource "aws_autoscaling_group" "web" {
  name                = "${local.prefix}-web"
  desired_capacity    = var.web_desired
  min_size            = 1
  max_size            = 4
  vpc_zone_identifier = aws_subnet.edge[*].id
  target_group_arns   = [aws_lb_target_group.web.arn]
  health_check_type   = "ELB"

  launch_template {
    id      = aws_launch_template.web.id
    version = "$Latest"
  }

  tag {
    key                 = "Environment"
    value               = var.env_name
    propagate_at_launch = true
  }
}
