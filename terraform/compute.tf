# Amazon Linux 2023, resolved by AWS at plan time (the same parameter in every environment).
data "aws_ssm_parameter" "al2023_ami" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

locals {
  # Instance bootstrap: Docker, the uploads EFS, the CloudWatch agent and the app container.
  # Written inline (not templatefile) so that it is evaluated before apply and compared between environments.
  user_data = <<-EOT
    #!/bin/bash
    # codedetect app instance: Docker, the uploads EFS, CloudWatch agent, the app container.
    set -euo pipefail

    dnf install -y docker amazon-efs-utils amazon-cloudwatch-agent
    systemctl enable --now docker

    # The uploads file system is found by its creation token (known before apply).
    efs_id=$(aws efs describe-file-systems --region ${var.aws_region} --creation-token ${local.efs_creation_token} \
      --query 'FileSystems[0].FileSystemId' --output text)
    mkdir -p /mnt/uploads
    mount -t efs -o tls "$efs_id":/ /mnt/uploads
    echo "$efs_id:/ /mnt/uploads efs _netdev,tls 0 0" >> /etc/fstab

    cat > /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json <<CWA
    {"logs": {"logs_collected": {"files": {"collect_list": [
      {"file_path": "/var/log/codedetect/*.log", "log_group_name": "${local.log_group_name}", "log_stream_name": "{instance_id}"}
    ]}}}}
    CWA
    systemctl enable --now amazon-cloudwatch-agent

    docker run -d --restart unless-stopped --name codedetect \
      -p ${var.app_port}:5000 \
      -v /mnt/uploads:/app/uploads \
      -v /var/log/codedetect:/app/logs \
      -e ENVIRONMENT=${var.environment} \
      -e AWS_REGION=${var.aws_region} \
      -e S3_BUCKET=${var.s3_bucket_name} \
      ${var.docker_image}:${var.docker_tag}
  EOT
}

resource "aws_instance" "blue" {
  count = local.colour_instance_count["blue"]

  ami                         = data.aws_ssm_parameter.al2023_ami.value
  instance_type               = var.instance_type
  subnet_id                   = aws_subnet.public[count.index % length(aws_subnet.public)].id
  vpc_security_group_ids      = [aws_security_group.app.id]
  iam_instance_profile        = aws_iam_instance_profile.app.name
  associate_public_ip_address = true
  monitoring                  = true
  user_data                   = local.user_data
  user_data_replace_on_change = true

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = var.root_volume_size
    encrypted   = true
  }

  tags = { Name = "${local.name}-app-blue", Colour = "blue" }
}

resource "aws_instance" "green" {
  count = local.colour_instance_count["green"]

  ami                         = data.aws_ssm_parameter.al2023_ami.value
  instance_type               = var.instance_type
  subnet_id                   = aws_subnet.public[count.index % length(aws_subnet.public)].id
  vpc_security_group_ids      = [aws_security_group.app.id]
  iam_instance_profile        = aws_iam_instance_profile.app.name
  associate_public_ip_address = true
  monitoring                  = true
  user_data                   = local.user_data
  user_data_replace_on_change = true

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = var.root_volume_size
    encrypted   = true
  }

  tags = { Name = "${local.name}-app-green", Colour = "green" }
}
