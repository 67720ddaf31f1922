env_name          = "production"
login_pair        = "webshop-production"
assets_bucket     = "webshop-production-assets-7f3a"
web_instance_type = "t3.small"
