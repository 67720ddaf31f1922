# Ports of the internal services, opened to the VPC only.
resource "aws_security_group" "internal" {
  name        = "${local.name}-internal"
  description = "internal services"

  dynamic "ingress" {
    for_each = [8080, 8443]
    content {
      description = "service ${ingress.value}"
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["10.0.0.0/8"]
    }
  }
}

resource "aws_security_group" "metrics" {
  name        = "${local.name}-metrics"
  description = "metrics scraping"

  ingress {
    description = "node exporter"
    from_port   = 9100
    to_port     = 9100
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
}
