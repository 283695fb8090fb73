"""Names used across the app: keys, headers, statuses (none of them secret)."""

AUTH_TOKEN_KEY = "auth_token"
REFRESH_TOKEN_KEY = "refresh-token"
API_SECRET_HEADER = "X-Api-Secret"
SECRET_MANAGER_ID = "acme/bluum/prod"
PASSWORD_RESET_TOKEN_TTL_S = 3600
token_endpoint = "/oauth/token"
secret_backend = "aws-secrets-manager"
credential_source = "environment"

ORDER_STATUSES = ("accepted", "filled", "cancelled", "rejected")
