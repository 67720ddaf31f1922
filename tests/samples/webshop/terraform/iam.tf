resource "aws_iam_role" "web" {
  name = "${local.prefix}-web"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "web" {
  name = "assets"
  role = aws_iam_role.web.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject"]
      Resource = ["arn:aws:s3:::${var.assets_bucket}/*"]
    }]
  })
}

resource "aws_iam_instance_profile" "web" {
  name = "${local.prefix}-web"
  role = aws_iam_role.web.name
}
