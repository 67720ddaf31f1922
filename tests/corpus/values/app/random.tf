# Only the aws provider is in the mirror here: the differential test plans the corpus without this file.

resource "random_password" "db" {
  length  = 20
  special = false
}
