# Same rules in every environment: nothing here may depend on the environment.

resource "aws_security_group" "alb" {
  name        = "${local.name}-alb"
  description = "Public HTTP and HTTPS to the load balancer"
  vpc_id      = aws_vpc.main.id

  egress {
    description = "To the app instances"
    from_port   = var.app_port
    to_port     = var.app_port
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  # dynamic blocks go after the static ones (see core/model.py: _unsafe_dynamic_blocks)
  dynamic "ingress" {
    for_each = { http = 80, https = 443 }
    content {
      description      = "Public ${ingress.key}"
      from_port        = ingress.value
      to_port          = ingress.value
      protocol         = "tcp"
      cidr_blocks      = ["0.0.0.0/0"]
      ipv6_cidr_blocks = ["::/0"]
    }
  }

  tags = { Name = "${local.name}-alb" }
}

resource "aws_security_group" "app" {
  name        = "${local.name}-app"
  description = "App instances: only the load balancer reaches the app port"
  vpc_id      = aws_vpc.main.id

  ingress {
    description     = "App port from the load balancer"
    from_port       = var.app_port
    to_port         = var.app_port
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }

  egress {
    description      = "Outbound HTTPS (Docker Hub, S3, CloudWatch)"
    from_port        = 443
    to_port          = 443
    protocol         = "tcp"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }

  egress {
    description = "PostgreSQL inside the VPC"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  egress {
    description = "NFS to the EFS mount targets"
    from_port   = 2049
    to_port     = 2049
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  tags = { Name = "${local.name}-app" }
}

resource "aws_security_group" "db" {
  name        = "${local.name}-db"
  description = "PostgreSQL from the app instances only"
  vpc_id      = aws_vpc.main.id

  ingress {
    description     = "PostgreSQL from the app"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }

  tags = { Name = "${local.name}-db" }
}

resource "aws_security_group" "efs" {
  name        = "${local.name}-efs"
  description = "NFS from the app instances only"
  vpc_id      = aws_vpc.main.id

  ingress {
    description     = "NFS from the app"
    from_port       = 2049
    to_port         = 2049
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }

  tags = { Name = "${local.name}-efs" }
}
