resource "aws_lb" "shop" {
  name                       = "${local.prefix}-lb"
  load_balancer_type         = "application"
  subnets                    = aws_subnet.edge[*].id
  security_groups            = [aws_security_group.lb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = local.production
}

resource "aws_lb_target_group" "web" {
  name     = "${local.prefix}-web"
  port     = 8080
  protocol = "HTTP"
  vpc_id   = aws_vpc.shop.id

  health_check {
    path    = "/healthz"
    matcher = "200"
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.shop.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.web.arn
  }
}
