variable "env_name" {
  description = "staging or production"
  type        = string
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "web_instance_type" {
  type    = string
  default = "t3.micro"
}

variable "web_desired" {
  description = "instances the web autoscaling group keeps running"
  type        = number
  default     = 2
}

variable "db_class" {
  type    = string
  default = "db.t3.micro"
}

variable "login_pair" {
  description = "EC2 key pair for break-glass SSH"
  type        = string
}

variable "assets_bucket" {
  type = string
}

variable "shop_image" {
  type    = string
  default = "ghcr.io/example/webshop"
}

variable "shop_version" {
  type    = string
  default = "1.4.2"
}

variable "db_password" {
  type      = string
  sensitive = true
}
