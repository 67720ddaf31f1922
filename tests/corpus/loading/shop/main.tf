locals {
  name        = "shop-${var.environment}"
  public_db   = false
  admin_cidrs = ["10.0.0.0/8"]
}

resource "aws_security_group" "app" {
  name        = "${local.name}-app"
  description = "app servers"

  ingress {
    description = "https"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description = "ssh from the office"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = local.admin_cidrs
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = { Name = "${local.name}-app" }
}

resource "aws_db_instance" "main" {
  identifier          = "${local.name}-db"
  engine              = "postgres"
  instance_class      = var.db_instance_class
  allocated_storage   = 20
  username            = "shop"

  manage_master_user_password = true
  publicly_accessible = local.public_db
  skip_final_snapshot = true
  storage_encrypted   = true
}

module "web" {
  source   = "./modules/web"
  for_each = toset(var.sites)

  name           = "${local.name}-${each.key}"
  instance_type  = var.instance_type
  security_group = aws_security_group.app.id
  retention_days = var.log_retention_days
}

module "worker" {
  source = "./modules/web"
  count  = var.environment == "production" ? 1 : 0

  name           = "${local.name}-worker"
  instance_type  = var.instance_type
  security_group = aws_security_group.app.id
  retention_days = var.log_retention_days
}

resource "aws_security_group" "admin" {
  name        = "${local.name}-admin"
  description = "administration from the office network"

  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = local.admin_cidrs
  }

  tags = { Name = "${local.name}-admin" }
}
