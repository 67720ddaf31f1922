env_name      = "staging"
login_pair    = "webshop-staging"
assets_bucket = "webshop-staging-assets-7f3a"
web_desired   = 1
