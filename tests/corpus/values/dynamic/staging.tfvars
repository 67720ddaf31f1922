environment        = "staging"
public_ports       = { http = 80 }
redirect_to_https  = false
archive_after_days = [30]
