output "db_endpoint" {
  value = aws_db_instance.main.address
}
