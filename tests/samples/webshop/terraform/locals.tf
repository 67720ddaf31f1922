locals {
  prefix     = "webshop-${var.env_name}"
  production = var.env_name == "production"
  log_group  = "/webshop/${var.env_name}/app"
  alarm_tag  = local.production ? "[PRODUCTION]" : "[STAGING]"
}
