resource "aws_lb" "main" {
  name                       = "${local.name}-alb"
  internal                   = false
  load_balancer_type         = "application"
  security_groups            = [aws_security_group.alb.id]
  subnets                    = aws_subnet.public[*].id
  drop_invalid_header_fields = true
  enable_deletion_protection = local.is_production

  tags = { Name = "${local.name}-alb" }
}

# One target group per colour; the listener forwards to the active one.
resource "aws_lb_target_group" "app" {
  for_each = toset(local.colours)

  name                 = "${local.name}-${each.key}"
  port                 = var.app_port
  protocol             = "HTTP"
  vpc_id               = aws_vpc.main.id
  target_type          = "instance"
  deregistration_delay = 30

  health_check {
    enabled             = true
    path                = "/api/health"
    protocol            = "HTTP"
    port                = "traffic-port"
    matcher             = "200"
    interval            = 30
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = { Name = "${local.name}-${each.key}", Colour = each.key }
}

resource "aws_lb_target_group_attachment" "blue" {
  count = local.colour_instance_count["blue"]

  target_group_arn = aws_lb_target_group.app["blue"].arn
  target_id        = aws_instance.blue[count.index].id
  port             = var.app_port
}

resource "aws_lb_target_group_attachment" "green" {
  count = local.colour_instance_count["green"]

  target_group_arn = aws_lb_target_group.app["green"].arn
  target_id        = aws_instance.green[count.index].id
  port             = var.app_port
}

# Without SSL the HTTP listener serves the app; with SSL it only redirects to HTTPS.
resource "aws_lb_listener" "http" {
  count = local.ssl_enabled ? 0 : 1

  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app[var.active_environment].arn
  }
}

resource "aws_lb_listener" "http_redirect" {
  count = local.ssl_enabled ? 1 : 0

  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  count = local.ssl_enabled ? 1 : 0

  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = aws_acm_certificate_validation.main[0].certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app[var.active_environment].arn
  }
}
