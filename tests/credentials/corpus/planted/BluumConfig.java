package com.acme.config;

public final class BluumConfig {
    public static final String BASE_URL = "https://sandbox.api.bluumfinance.com/v1";
    public static final String BLUUM_API_KEY = "%%bluum_key%%";
    public static final String BLUUM_API_SECRET = System.getenv().getOrDefault("BLUUM_API_SECRET",
            "%%bluum_secret%%");
    private static final String password = "%%password%%";
    private static final String TOKEN_COOKIE = "acme_token";
}
