output "shop_url" {
  value = "http://${aws_lb.shop.dns_name}"
}

output "assets_bucket" {
  value = aws_s3_bucket.assets.bucket
}
