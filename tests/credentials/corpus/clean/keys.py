"""Public material only: the PEM below is a public key, the fingerprints are published."""

PUBLIC_KEY_PEM = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEWn0LXb2Vv0k3Y1nq8n7RVdHPQ7Tf
sJ7cXgkZQ9vJr7lQ3l1mX0c7Vb2mH1R8hYw5fJmQe2D8nQ0mK4cU5o2Zxg==
-----END PUBLIC KEY-----"""

KEY_FINGERPRINT = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"
KEY_ID_HEADER = "Bluum-Key-Id"
