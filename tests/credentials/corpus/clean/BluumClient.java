package com.acme.bluum;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

public final class BluumClient {
    public static final String API_KEY_ENV = "BLUUM_API_KEY";
    public static final String API_SECRET_ENV = "BLUUM_API_SECRET";
    public static final String SECRET_KEY_PARAM = "secret_key";
    public static final String AUTH_TOKEN_HEADER = "X-Auth-Token";
    public static final String IDEMPOTENCY_HEADER = "Idempotency-Key";
    private static final String PASSWORD_PROPERTY = "bluum.password";

    public enum TokenType { ACCESS_TOKEN, REFRESH_TOKEN }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String baseUrl;
    private final String authorization;

    public BluumClient(String baseUrl) {
        this.baseUrl = baseUrl;
        String key = System.getenv(API_KEY_ENV);
        String secret = System.getenv(API_SECRET_ENV);
        String pair = key + ":" + secret;
        this.authorization = "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
    }

    public HttpResponse<String> get(String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .header("Authorization", authorization)
                .GET()
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
