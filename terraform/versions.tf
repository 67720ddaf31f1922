terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }

  # One state per workspace: "default" (production) is stored at
  # codedetect/terraform.tfstate, "staging" at env:/staging/codedetect/terraform.tfstate.
  backend "s3" {
    bucket               = "codedetect-terraform-state"
    key                  = "codedetect/terraform.tfstate"
    region               = "us-east-1"
    workspace_key_prefix = "env:"
    dynamodb_table       = "codedetect-terraform-locks"
    encrypt              = true
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = local.common_tags
  }
}
