locals {
  name          = "${var.project_name}-${var.environment}"
  is_production = var.environment == "production"
  ssl_enabled   = var.enable_ssl

  alarm_prefix   = local.is_production ? "[PROD]" : "[${upper(var.environment)}]"
  log_group_name = "/aws/ec2/${local.name}"

  # Known before apply, so the instance finds its file system without a computed id in user_data.
  efs_creation_token = "${local.name}-uploads"

  colours = ["blue", "green"]
  colour_instance_count = {
    for colour in local.colours :
    colour => colour == var.active_environment ? var.instance_count : var.standby_instance_count
  }

  common_tags = {
    Project     = var.project_name
    Environment = var.environment
    ManagedBy   = "terraform"
  }
}

# The workspace and the var file must agree: production is "default", staging is "staging".
check "workspace_matches_environment" {
  assert {
    condition     = (terraform.workspace == "default" ? "production" : terraform.workspace) == var.environment
    error_message = "Workspace ${terraform.workspace} does not match environment ${var.environment}: use staging.tfvars in workspace staging only."
  }
}
