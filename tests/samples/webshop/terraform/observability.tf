resource "aws_cloudwatch_log_group" "app" {
  name              = local.log_group
  retention_in_days = 365
}

resource "aws_sns_topic" "oncall" {
  name = "${local.prefix}-oncall"
}

resource "aws_cloudwatch_metric_alarm" "unhealthy" {
  alarm_name          = "${local.alarm_tag} ${local.prefix} unhealthy web servers"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  statistic           = "Maximum"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  period              = 60
  evaluation_periods  = 3
  alarm_actions       = [aws_sns_topic.oncall.arn]
}
