output "load_balancer_dns" {
  description = "DNS name of the load balancer."
  value       = aws_lb.main.dns_name
}

output "active_environment" {
  description = "Blue/green colour receiving traffic."
  value       = var.active_environment
}

output "app_url" {
  description = "Public URL of the app."
  value       = local.ssl_enabled ? "https://${var.domain_name}" : "http://${aws_lb.main.dns_name}"
}

output "uploads_bucket" {
  description = "Uploads bucket name."
  value       = aws_s3_bucket.uploads.bucket
}

output "db_endpoint" {
  description = "RDS endpoint (host:port)."
  value       = aws_db_instance.main.endpoint
}
