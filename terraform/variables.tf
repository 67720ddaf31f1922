# Production is workspace "default" with the defaults below.
# Staging is workspace "staging" with staging.tfvars.

variable "aws_region" {
  description = "AWS region for every resource."
  type        = string
  default     = "us-east-1"
}

variable "environment" {
  description = "Environment name; also the value of the Environment tag."
  type        = string
  default     = "production"

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "project_name" {
  description = "Project name, used in resource names and the Project tag."
  type        = string
  default     = "codedetect"
}

variable "availability_zones" {
  description = "Two availability zones for the public and private subnets."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b"]
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.0.0.0/16"
}

variable "instance_type" {
  description = "EC2 instance type of the app instances."
  type        = string
  default     = "t3.micro"
}

variable "instance_count" {
  description = "App instances in the active colour."
  type        = number
  default     = 1
}

variable "standby_instance_count" {
  description = "App instances kept in the inactive colour (raise to 1 while switching)."
  type        = number
  default     = 0
}

variable "active_environment" {
  description = "Blue/green colour that receives traffic."
  type        = string
  default     = "blue"

  validation {
    condition     = contains(["blue", "green"], var.active_environment)
    error_message = "active_environment must be blue or green."
  }
}

variable "app_port" {
  description = "Port the Flask app listens on inside the instance."
  type        = number
  default     = 5000
}

variable "docker_image" {
  description = "Docker image of the app; the same in every environment."
  type        = string
  default     = "nyeinthunaing/codedetect"
}

variable "docker_tag" {
  description = "Docker image tag to run."
  type        = string
  default     = "latest"
}

variable "root_volume_size" {
  description = "Root EBS volume of each app instance, in GB."
  type        = number
  default     = 20
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t3.micro"
}

variable "db_allocated_storage" {
  description = "RDS storage in GB."
  type        = number
  default     = 20
}

variable "db_engine_version" {
  description = "PostgreSQL major.minor version."
  type        = string
  default     = "16.4"
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups."
  type        = number
  default     = 7
}

variable "db_username" {
  description = "RDS master user name."
  type        = string
  default     = "codedetect"
}

variable "db_password" {
  description = "RDS master password. Pass with -var or TF_VAR_db_password; never in a file."
  type        = string
  sensitive   = true
}

variable "s3_bucket_name" {
  description = "Uploads bucket."
  type        = string
  default     = "codedetect-prod-uploads-2025"
}

variable "enable_ssl" {
  description = "Domain, ACM certificate and HTTPS listener."
  type        = bool
  default     = true
}

variable "domain_name" {
  description = "Public domain of the app (only used when enable_ssl is true)."
  type        = string
  default     = "codedetect.example.com"
}

variable "alert_email" {
  description = "Address subscribed to the alarm topic."
  type        = string
  default     = "alerts@example.com"
}

variable "log_retention_days" {
  description = "Retention of the app log group."
  type        = number
  default     = 30
}
