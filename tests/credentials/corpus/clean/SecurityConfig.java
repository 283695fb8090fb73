package com.acme.config;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Configuration;

@Configuration
public class SecurityConfig {
    private static final String TOKEN_COOKIE = "acme_token";
    private static final String SECRET_HEADER = "X-Webhook-Secret";
    private String passwordParameter = "password";
    private String usernameParameter = "username";

    @Value("${bluum.api-secret}")
    private String apiSecret;

    @Value("${bluum.webhook-secret}")
    private String webhookSecret;

    public String tokenCookie() {
        return TOKEN_COOKIE;
    }
}
