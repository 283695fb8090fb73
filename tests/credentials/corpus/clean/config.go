package config

import "os"

type Bluum struct {
	BaseURL       string `yaml:"base_url"`
	APIKey        string `yaml:"api_key"`
	APISecret     string `yaml:"api_secret"`
	WebhookSecret string `yaml:"webhook_secret"`
}

var passwordField = "password"
var tokenKey = "session-token"

func FromEnv() Bluum {
	return Bluum{
		BaseURL:       getenv("BLUUM_BASE_URL", "https://sandbox.api.bluumfinance.com/v1"),
		APIKey:        os.Getenv("BLUUM_API_KEY"),
		APISecret:     os.Getenv("BLUUM_API_SECRET"),
		WebhookSecret: os.Getenv("BLUUM_WEBHOOK_SECRET"),
	}
}

func getenv(name, fallback string) string {
	if value, ok := os.LookupEnv(name); ok {
		return value
	}
	return fallback
}
