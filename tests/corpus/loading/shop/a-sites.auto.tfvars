sites = ["shop", "admin"]
