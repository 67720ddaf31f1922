environment   = "staging"
instance_type = "t3.micro"
