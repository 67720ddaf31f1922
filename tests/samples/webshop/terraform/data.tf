resource "aws_db_subnet_group" "shop" {
  name       = "${local.prefix}-db"
  subnet_ids = aws_subnet.edge[*].id
}

resource "aws_db_instance" "shop" {
  identifier                          = "${local.prefix}-db"
  engine                              = "postgres"
  engine_version                      = "16"
  instance_class                      = var.db_class
  allocated_storage                   = 20
  storage_type                        = "gp3"
  storage_encrypted                   = true
  username                            = "shop"
  password                            = var.db_password
  db_subnet_group_name                = aws_db_subnet_group.shop.name
  vpc_security_group_ids              = [aws_security_group.db.id]
  backup_retention_period             = 7
  copy_tags_to_snapshot               = true
  auto_minor_version_upgrade          = true
  iam_database_authentication_enabled = true
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  deletion_protection                 = local.production
  skip_final_snapshot                 = !local.production
  final_snapshot_identifier           = "${local.prefix}-final"
}

resource "aws_s3_bucket" "assets" {
  bucket        = var.assets_bucket
  force_destroy = !local.production
}

resource "aws_s3_bucket_public_access_block" "assets" {
  bucket                  = aws_s3_bucket.assets.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "assets" {
  bucket = aws_s3_bucket.assets.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "assets" {
  bucket = aws_s3_bucket.assets.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}
