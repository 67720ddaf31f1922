instance_type      = "t3.small"
log_retention_days = 14
