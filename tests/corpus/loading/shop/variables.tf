variable "aws_region" {
  type    = string
  default = "us-east-1"
}

variable "environment" {
  type    = string
  default = "production"
}

variable "instance_type" {
  type    = string
  default = "t3.micro"
}

variable "sites" {
  type    = list(string)
  default = ["shop"]
}

variable "db_instance_class" {
  type    = string
  default = "db.t3.micro"
}

variable "queue_retention" {
  type    = number
  default = 60
}

variable "log_retention_days" {
  type    = number
  default = 7
}
