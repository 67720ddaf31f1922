# Staging: terraform workspace select staging && terraform apply -var-file="staging.tfvars"
environment    = "staging"
s3_bucket_name = "codedetect-staging-uploads-2025"
enable_ssl     = false
