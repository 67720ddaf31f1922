resource "aws_security_group" "app" {
  ingress {
    description = "https only"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

variable "queue_retention" {
  default = 345600
}
