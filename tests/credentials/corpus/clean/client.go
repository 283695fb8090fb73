package bluum

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"
)

const (
	APIKeyEnv          = "BLUUM_API_KEY"
	APISecretEnv       = "BLUUM_API_SECRET"
	IdempotencyHeader  = "Idempotency-Key"
	SignatureHeader    = "X-Bluum-Signature"
	defaultBaseURL     = "https://sandbox.api.bluumfinance.com/v1"
	secretKeyName      = "bluum_secret_key"
	authTokenCookie    = "auth_token"
)

type TokenType string

const (
	AccessToken  TokenType = "access_token"
	RefreshToken TokenType = "refresh_token"
)

type Client struct {
	baseURL string
	key     string
	secret  string
	http    *http.Client
}

func NewFromEnv() (*Client, error) {
	key := os.Getenv(APIKeyEnv)
	secret := os.Getenv(APISecretEnv)
	if key == "" || secret == "" {
		return nil, fmt.Errorf("set %s and %s", APIKeyEnv, APISecretEnv)
	}
	return &Client{baseURL: defaultBaseURL, key: key, secret: secret, http: &http.Client{Timeout: 5 * time.Second}}, nil
}

func (c *Client) Post(path string, body any, idempotencyKey string) (*http.Response, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, c.baseURL+path, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(c.key, c.secret)
	req.Header.Set(IdempotencyHeader, idempotencyKey)
	return c.http.Do(req)
}
