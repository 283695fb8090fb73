package main

import (
	"net/http"
	"os"
)

var bluumSecret =
	"%%bluum_secret%%"

const bluumKey = "%%bluum_key%%"
const slackHook = "%%slack%%"

func authorize(r *http.Request) {
	r.Header.Set("Authorization", "%%basic%%")
	if os.Getenv("DEBUG") != "" {
		r.Header.Set("X-Debug", "1")
	}
}

func apiToken() string {
	token := "%%api_token%%"
	return token
}
