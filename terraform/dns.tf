# Domain/SSL: production only (see the Domain/SSL row of docs/ENVIRONMENTS.md).

resource "aws_route53_zone" "main" {
  count = local.ssl_enabled ? 1 : 0

  name = var.domain_name

  tags = { Name = var.domain_name }
}

resource "aws_acm_certificate" "main" {
  count = local.ssl_enabled ? 1 : 0

  domain_name       = var.domain_name
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }

  tags = { Name = var.domain_name }
}

resource "aws_route53_record" "cert_validation" {
  for_each = {
    for dvo in(local.ssl_enabled ? aws_acm_certificate.main[0].domain_validation_options : []) :
    dvo.domain_name => dvo
  }

  zone_id         = aws_route53_zone.main[0].zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 60
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "main" {
  count = local.ssl_enabled ? 1 : 0

  certificate_arn         = aws_acm_certificate.main[0].arn
  validation_record_fqdns = [for record in aws_route53_record.cert_validation : record.fqdn]
}

resource "aws_route53_record" "app" {
  count = local.ssl_enabled ? 1 : 0

  zone_id = aws_route53_zone.main[0].zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_lb.main.dns_name
    zone_id                = aws_lb.main.zone_id
    evaluate_target_health = true
  }
}
