resource "aws_secretsmanager_secret" "bluum" {
  name        = "acme/bluum-sandbox"
  description = "Bluum sandbox key pair"
}

variable "bluum_api_secret" {
  type      = string
  sensitive = true
}

resource "aws_secretsmanager_secret_version" "bluum" {
  secret_id     = aws_secretsmanager_secret.bluum.id
  secret_string = jsonencode({ key = var.bluum_api_key, secret = var.bluum_api_secret })
}
