variable "name" {
  type = string
}

variable "instance_type" {
  type = string
}

variable "security_group" {
  type = string
}

variable "retention_days" {
  type = number
}
