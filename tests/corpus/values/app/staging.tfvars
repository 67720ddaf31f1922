environment   = "staging"
instance_type = "t3.micro"
enable_ssl    = false
# a brace inside a string must not hide the next assignment: "}"
domain_name = "staging.example.com { not a block"
