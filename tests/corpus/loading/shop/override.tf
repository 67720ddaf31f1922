# Written by the platform team's tooling: production's database size and the office network.
resource "aws_db_instance" "main" {
  instance_class = "db.r6g.large"
}

locals {
  admin_cidrs = ["10.20.0.0/16"]
}
