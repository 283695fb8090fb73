// BluumAdapter.java: our Bluum integration, as bluum-readiness drives it (adapter protocol 1).
//
// Run it:  javac -d build BluumAdapter.java            (again after each change)
//          bluum-readiness run --integration "exec:java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp build BluumAdapter"
// (the suite starts a JVM per check: without the optimising JIT and with the serial GC it starts faster;
// "exec:java BluumAdapter.java" works too, but compiles the file at every start)
//
// bluum-readiness starts this program once per check and sends it one JSON-RPC 2.0 request per line on stdin;
// the runtime at the bottom answers each on stdout, each request on a thread of its own. Wire integration() below
// to YOUR Bluum client (your SDK wrapper, service layer or HTTP backend) and YOUR webhook handler: the suite proves
// how *that* code behaves through a fault-injecting proxy. The rules (docs/adapter-protocol.md):
//
// - send every Bluum call to env.baseUrl() (the suite's proxy, ending in /v1), never a hard-coded URL;
// - take the key pair from env.credentials() for each request, or at least again after a 401: the file behind it
//   is your secret manager's stand-in, and the suite rewrites it when it rotates the pair;
// - use env.timeout() as your per-request timeout;
// - log to stderr: stdout carries the protocol. From the moment this class loads, System.out IS System.err, so
//   a System.out.println or a console logger set up later goes there; a logger that holds FileDescriptor.out
//   must be pointed at stderr. The suite reads that log: one line per HTTP exchange with method, path, status,
//   X-Request-Id and duration (JSON or text), failed attempts with what went wrong, never a secret;
// - throw when an operation fails: a BluumApiException (status, code = Bluum's BLUM-… code, requestId = the
//   answer's X-Request-Id) when the API answered; Java's timeouts (java.net.http's HttpTimeoutException, a
//   SocketTimeoutException) and connection failures are recognised as they are, also as your exception's cause.
//
// Standard library only: Java 17 or newer (com.sun.net.httpserver for the receiver). The example client and
// receiver below talk to Bluum directly and pass the suite against the twin; start from them, or replace them.

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

public final class BluumAdapter {

    // ---- your integration --------------------------------------------------------------------------------

    /**
     * What the suite drives: your Bluum client, wrapped to {@link BluumClient}, and your webhook handler (null: no
     * receiver, and the webhook checks are "not verifiable"). Called once, when the program starts.
     *
     * <p>TODO: return your client and handler, e.g.
     * {@code return new Integration(new AcmeBluum(new AcmeClient(env.baseUrl(), env::credentials)), acmeWebhooks);}
     *
     * <p>To see the suite pass first, use the example client and receiver below:
     * {@code return new Integration(new ExampleClient(env), new ExampleReceiver(env));}
     */
    static Integration integration(Env env) throws Exception {
        return new Integration(null, null); // TODO: your client and webhook handler (see above)
    }

    /** What each operation calls: one method per operation, each one Bluum call (or a few). */
    public interface BluumClient {
        /** POST /investors with profile; the investor id (inv_…). */
        String createInvestor(Map<String, Object> profile) throws Exception;

        /** POST /documents as multipart (document_type, purpose, investor_id, the file as `document`); doc_…. */
        String uploadDocument(String investorId, Document document) throws Exception;

        /** GET /investors/{investorId}; its `status`. */
        String kycStatus(String investorId) throws Exception;

        /** POST /investors/{investorId}/funding-sources/connect with bank (a Plaid or manual connect body); the
         *  funding source id (fs_…). A Plaid connect answers a list envelope {"data": [...]}, a manual one the
         *  funding source itself. */
        String linkBankAccount(String investorId, Map<String, Object> bank) throws Exception;

        /** POST /investors/{investorId}/deposits {amount, currency: "USD", method, funding_source_id} with an
         *  Idempotency-Key header (the same on every retry); the deposit id (dep_…). */
        String deposit(String investorId, String fundingSourceId, String amount, String method) throws Exception;

        /** POST /investors/{investorId}/orders with order; the order id (ord_…). */
        String placeOrder(String investorId, Map<String, Object> order) throws Exception;

        /** GET /investors/{investorId}/orders/{orderId}; the order object. */
        Map<String, Object> getOrder(String investorId, String orderId) throws Exception;

        /** POST /investors/{investorId}/orders/{orderId}/cancel. */
        void cancelOrder(String investorId, String orderId) throws Exception;

        /** GET /investors/{investorId}/positions, every page; the positions. */
        List<Object> positions(String investorId) throws Exception;

        /** POST /investors/{investorId}/withdrawals {amount, currency: "USD", method, funding_source_id} with an
         *  Idempotency-Key header (the same on every retry); the withdrawal id (wd_…). */
        String withdraw(String investorId, String fundingSourceId, String amount, String method) throws Exception;
    }

    // Optional capabilities: implement one on your client (or, EventProcessor, on your webhook handler) and the
    // runtime advertises it. Checks that need one are "not verifiable" without it, never passed.

    /** One entry per HTTP exchange: {method, path, status, request_id, duration_ms}. */
    public interface RequestLogger { List<Map<String, Object>> requestLog(); }

    /** {kind: "elevated_5xx" | "rate_limited" | "stuck_order" | "webhook_failure", …} per alert raised. */
    public interface Alerter { List<Map<String, Object>> alerts(); }

    /** The event ids whose effects your receiver applied, one per application. */
    public interface EventProcessor { List<String> processedEvents(); }

    /** The status your receiver holds for a resource (an order's "filled"…) after the events it applied, or null;
     *  webhooks.out-of-order reads it to see an older event never overwrite a newer one. */
    public interface StateReporter { String resourceStatus(String resourceId); }

    /** Your client and your webhook handler (either may be null). */
    public record Integration(BluumClient client, HttpHandler webhooks) {}

    /** An upload_document's document, its content decoded. */
    public record Document(String documentType, String purpose, String fileName, byte[] content) {}

    /** A failed operation as the suite reads it: what the API answered (status, code, param, requestId), or the
     *  network failure when it did not answer (transport: ECONNRESET, ETIMEDOUT, …). Throw one, or map your own
     *  client's exception to it. */
    public static class BluumApiException extends Exception {
        private static final long serialVersionUID = 1L;
        public final Integer status;
        public final String code, param, requestId, transport;

        public BluumApiException(String message, Integer status, String code, String param, String requestId,
                                 String transport, Throwable cause) {
            super(message, cause);
            this.status = status;
            this.code = code;
            this.param = param;
            this.requestId = requestId;
            this.transport = transport;
        }
    }

    // ---- an example client and receiver: replace them with yours --------------------------------------------

    /** The Bluum API over HTTP/1.1 (Http11, below): the credentials file read for every attempt (and again after a
     *  401), one Idempotency-Key per POST kept across its retries, retries of 429/5xx and network failures with
     *  capped full-jitter backoff honouring Retry-After, one JSON log line per attempt on stderr. */
    static final class ExampleClient implements BluumClient {
        private final Env env;
        private final int maxAttempts = 5;
        private final long baseDelayMs = 50, maxDelayMs = 2000;

        ExampleClient(Env env) {
            this.env = env;
        }

        public String createInvestor(Map<String, Object> profile) throws Exception {
            return id(call("POST", "/investors", Body.json(profile)));
        }

        public String uploadDocument(String investorId, Document document) throws Exception {
            String boundary = "bluum-" + UUID.randomUUID();
            ByteArrayOutputStream form = new ByteArrayOutputStream();
            Map<String, String> fields = Map.of("document_type", document.documentType(), "purpose",
                    document.purpose(), "investor_id", investorId);
            for (Map.Entry<String, String> field : fields.entrySet()) {
                form.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field.getKey()
                        + "\"\r\n\r\n" + field.getValue() + "\r\n").getBytes(StandardCharsets.UTF_8));
            }
            form.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"document\"; filename=\""
                    + document.fileName().replace("\"", "") + "\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            form.writeBytes(document.content());
            form.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
            return id(call("POST", "/documents", new Body("multipart/form-data; boundary=" + boundary,
                    form.toByteArray())));
        }

        public String kycStatus(String investorId) throws Exception {
            return (String) object(call("GET", "/investors/" + segment(investorId), null)).get("status");
        }

        public String linkBankAccount(String investorId, Map<String, Object> bank) throws Exception {
            String path = "/investors/" + segment(investorId) + "/funding-sources";
            if ("plaid".equals(bank.get("type"))) { // Plaid: a link token first; the connect answers a list envelope
                call("POST", path + "/plaid/link-token", Body.json(Map.of()));
                List<?> linked = (List<?>) object(call("POST", path + "/connect", Body.json(bank))).get("data");
                if (linked == null || linked.isEmpty()) {
                    throw new BluumApiException("the Plaid connect linked no account", null, null, null, null, null,
                            null);
                }
                return id(linked.get(0));
            }
            return id(call("POST", path + "/connect", Body.json(bank))); // a manual connect: the funding source
        }

        public String deposit(String investorId, String fundingSourceId, String amount, String method)
                throws Exception {
            return id(call("POST", "/investors/" + segment(investorId) + "/deposits",
                    Body.json(transfer(fundingSourceId, amount, method))));
        }

        public String placeOrder(String investorId, Map<String, Object> order) throws Exception {
            return id(call("POST", "/investors/" + segment(investorId) + "/orders", Body.json(order)));
        }

        public Map<String, Object> getOrder(String investorId, String orderId) throws Exception {
            return object(call("GET", "/investors/" + segment(investorId) + "/orders/" + segment(orderId), null));
        }

        public void cancelOrder(String investorId, String orderId) throws Exception {
            call("POST", "/investors/" + segment(investorId) + "/orders/" + segment(orderId) + "/cancel", null);
        }

        public List<Object> positions(String investorId) throws Exception {
            List<Object> positions = new ArrayList<>();
            while (true) {
                Map<String, Object> page = object(call("GET", "/investors/" + segment(investorId)
                        + "/positions?limit=200&offset=" + positions.size(), null));
                List<?> data = (List<?>) page.get("data");
                positions.addAll(data);
                if (!Boolean.TRUE.equals(page.get("has_more")) || data.isEmpty()) return positions;
            }
        }

        public String withdraw(String investorId, String fundingSourceId, String amount, String method)
                throws Exception {
            return id(call("POST", "/investors/" + segment(investorId) + "/withdrawals",
                    Body.json(transfer(fundingSourceId, amount, method))));
        }

        private static Map<String, Object> transfer(String fundingSourceId, String amount, String method) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("amount", amount);
            body.put("currency", "USD");
            body.put("method", method);
            body.put("funding_source_id", fundingSourceId);
            return body;
        }

        record Body(String contentType, byte[] bytes) {
            static Body json(Object value) {
                return new Body("application/json", Json.write(value).getBytes(StandardCharsets.UTF_8));
            }
        }

        /** One logical call: every attempt carries the same Idempotency-Key; the parsed JSON answer. */
        Object call(String method, String path, Body body) throws Exception {
            String idempotencyKey = null;
            if (method.equals("POST")) {
                idempotencyKey = UUID.randomUUID().toString();
            }
            boolean refreshed = false;
            for (int attempt = 1; ; attempt++) {
                Http11.Answer response;
                try {
                    response = attempt(method, path, body, idempotencyKey, attempt);
                } catch (IOException err) { // no answer: a timeout, a reset, a refused connection
                    if (attempt < maxAttempts) {
                        Thread.sleep(backoffMs(attempt, 0));
                        continue;
                    }
                    throw err;
                }
                int status = response.status();
                if (status < 300) return response.body().isEmpty() ? null : Json.parse(response.body());
                if (status == 401 && !refreshed) { // the pair may have been rotated: read it again, once
                    refreshed = true;
                    attempt--;
                    continue;
                }
                if (retryable(status) && attempt < maxAttempts) {
                    long retryAfterS = seconds(response.header("retry-after"));
                    Thread.sleep(backoffMs(attempt, retryAfterS * 1000));
                    continue;
                }
                throw apiError(method, path, response);
            }
        }

        static boolean retryable(int status) {
            return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
        }

        private static long seconds(String value) {
            if (value == null) return 0;
            try {
                return Long.parseLong(value.trim());
            } catch (NumberFormatException notSeconds) {
                return 0;
            }
        }

        /** Full jitter on a doubling window capped at maxDelayMs, never shorter than Retry-After (capped at 30 s). */
        private long backoffMs(int attempt, long retryAfterMs) {
            long window = Math.min(maxDelayMs, baseDelayMs << Math.min(attempt, 20));
            long wait = ThreadLocalRandom.current().nextLong(window);
            return Math.max(wait, Math.min(retryAfterMs, 30_000));
        }

        private Http11.Answer attempt(String method, String path, Body body, String idempotencyKey, int attempt)
                throws IOException {
            Map<String, String> pair = env.credentials();
            String token = Base64.getEncoder().encodeToString((pair.get("key") + ":" + pair.get("secret"))
                    .getBytes(StandardCharsets.UTF_8));
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("Authorization", "Basic " + token);
            headers.put("Accept", "application/json");
            if (body != null) headers.put("Content-Type", body.contentType());
            if (idempotencyKey != null) headers.put("Idempotency-Key", idempotencyKey);
            long started = System.nanoTime();
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("msg", "bluum request");
            entry.put("method", method);
            entry.put("path", URI.create(env.baseUrl() + path).getPath());
            entry.put("attempt", attempt);
            try {
                Http11.Answer response = Http11.exchange(method, URI.create(env.baseUrl() + path), headers,
                        body == null ? null : body.bytes(), env.timeout());
                entry.put("status", response.status());
                entry.put("request_id", response.header("x-request-id"));
                entry.put("duration_ms", (System.nanoTime() - started) / 1e6);
                log(response.status() >= 500 ? "warn" : "info", entry);
                return response;
            } catch (IOException err) {
                entry.put("status", null);
                entry.put("request_id", null);
                entry.put("duration_ms", (System.nanoTime() - started) / 1e6);
                entry.put("error", transportName(err));
                log("warn", entry);
                throw err;
            }
        }

        private static BluumApiException apiError(String method, String path, Http11.Answer response) {
            Map<?, ?> error = Map.of();
            try {
                Object parsed = Json.parse(response.body());
                if (parsed instanceof Map<?, ?> envelope && envelope.get("error") instanceof Map<?, ?> e) error = e;
            } catch (RuntimeException notJson) {
                // keep the status
            }
            String message = error.get("message") instanceof String m ? m
                    : method + " " + path + " answered " + response.status();
            return new BluumApiException(message, response.status(), (String) error.get("code"),
                    (String) error.get("param"), response.header("x-request-id"), null, null);
        }

        private static String segment(String value) {
            return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
        }

        private static String id(Object answer) {
            return (String) object(answer).get("id");
        }

        @SuppressWarnings("unchecked")
        private static Map<String, Object> object(Object answer) {
            return answer instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
        }
    }

    /**
     * One HTTP/1.1 exchange on its own connection, every byte of it in our hands. Why not java.net.http or
     * HttpURLConnection: both send a GET a second time by themselves when the connection closes before any
     * answer, and that attempt then reaches no log line (observability.failures-logged flags it). A client that
     * retries on its own (OkHttp: retryOnConnectionFailure) must log those attempts, or be told not to.
     */
    static final class Http11 {
        record Answer(int status, Map<String, String> headers, String body) {
            String header(String lowercaseName) {
                return headers.get(lowercaseName);
            }
        }

        static Answer exchange(String method, URI uri, Map<String, String> headers, byte[] body, Duration timeout)
                throws IOException {
            long deadline = System.nanoTime() + timeout.toNanos();
            boolean https = uri.getScheme().equals("https");
            int port = uri.getPort() != -1 ? uri.getPort() : https ? 443 : 80;
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(uri.getHost(), port), (int) Math.max(1, timeout.toMillis()));
                Socket channel = socket;
                if (https) {
                    SSLSocket tls = (SSLSocket) ((SSLSocketFactory) SSLSocketFactory.getDefault())
                            .createSocket(socket, uri.getHost(), port, true);
                    SSLParameters parameters = tls.getSSLParameters();
                    parameters.setEndpointIdentificationAlgorithm("HTTPS");
                    tls.setSSLParameters(parameters);
                    channel = tls;
                }
                StringBuilder head = new StringBuilder(method).append(' ').append(uri.getRawPath())
                        .append(uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()).append(" HTTP/1.1\r\n")
                        .append("Host: ").append(uri.getHost()).append(uri.getPort() == -1 ? "" : ":" + port)
                        .append("\r\nConnection: close\r\nContent-Length: ").append(body == null ? 0 : body.length)
                        .append("\r\n");
                headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
                OutputStream out = channel.getOutputStream();
                out.write(head.append("\r\n").toString().getBytes(StandardCharsets.UTF_8));
                if (body != null) out.write(body);
                out.flush();
                InputStream in = new DeadlineStream(channel, deadline);
                String statusLine = line(in);
                if (statusLine == null) throw new IOException("connection reset: no answer");
                String[] parts = statusLine.split(" ", 3);
                Map<String, String> answerHeaders = new LinkedHashMap<>();
                for (String header; (header = line(in)) != null && !header.isEmpty(); ) {
                    int colon = header.indexOf(':');
                    if (colon > 0) {
                        answerHeaders.put(header.substring(0, colon).trim().toLowerCase(),
                                header.substring(colon + 1).trim());
                    }
                }
                byte[] content;
                if ("chunked".equalsIgnoreCase(answerHeaders.get("transfer-encoding"))) {
                    ByteArrayOutputStream chunks = new ByteArrayOutputStream();
                    for (int size; (size = Integer.parseInt(line(in).split(";")[0].trim(), 16)) > 0; line(in)) {
                        chunks.writeBytes(exactly(in, size));
                    }
                    content = chunks.toByteArray();
                } else if (answerHeaders.containsKey("content-length")) {
                    content = exactly(in, Integer.parseInt(answerHeaders.get("content-length")));
                } else {
                    content = in.readAllBytes();
                }
                return new Answer(Integer.parseInt(parts[1]), answerHeaders,
                        new String(content, StandardCharsets.UTF_8));
            } catch (ConnectException refused) {
                throw refused;
            } catch (SocketTimeoutException timedOut) {
                throw new HttpTimeoutException("no answer within " + timeout.toMillis() + " ms");
            } catch (SocketException reset) {
                throw new IOException("connection reset: " + reset.getMessage(), reset);
            }
        }

        private static String line(InputStream in) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (int b; (b = in.read()) != -1; ) {
                if (b == '\n') return bytes.toString(StandardCharsets.UTF_8).replaceFirst("\r$", "");
                bytes.write(b);
            }
            return bytes.size() == 0 ? null : bytes.toString(StandardCharsets.UTF_8);
        }

        private static byte[] exactly(InputStream in, int count) throws IOException {
            byte[] bytes = in.readNBytes(count);
            if (bytes.length != count) throw new IOException("connection reset: the answer was cut short");
            return bytes;
        }

        /** The socket's input, buffered, with a deadline for the whole answer (not only for each read). */
        private static final class DeadlineStream extends java.io.FilterInputStream {
            private final Socket socket;
            private final long deadline;

            DeadlineStream(Socket socket, long deadline) throws IOException {
                super(new java.io.BufferedInputStream(socket.getInputStream()));
                this.socket = socket;
                this.deadline = deadline;
            }

            private void arm() throws IOException {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) throw new SocketTimeoutException("deadline");
                socket.setSoTimeout((int) left);
            }

            @Override
            public int read() throws IOException {
                arm();
                return super.read();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                arm();
                return super.read(b, off, len);
            }
        }
    }

    /** A Bluum webhook receiver: the Standard Webhooks signature verified over the raw body with a constant-time
     *  compare and a 5-minute tolerance before anything else, 200 as soon as the event is taken, and one
     *  application per event id however often and however concurrently it arrives. */
    static final class ExampleReceiver implements HttpHandler, EventProcessor, StateReporter {
        private static final long TOLERANCE_S = 300;
        private final Env env;
        private final Set<String> seen = new HashSet<>();
        private final List<String> processed = new ArrayList<>();
        // resource id -> {status, the event's own timestamp}: the newest event's, whatever order they arrive in
        private final Map<String, String[]> states = new HashMap<>();

        ExampleReceiver(Env env) {
            this.env = env;
        }

        @Override
        public void handle(HttpExchange exchange) throws IOException {
            try (exchange) {
                byte[] body = exchange.getRequestBody().readAllBytes();
                if (!exchange.getRequestMethod().equals("POST")) {
                    reply(exchange, 405, Map.of("error", "method_not_allowed"));
                    return;
                }
                String secret = env.webhookSecret();
                if (secret == null) {
                    reply(exchange, 503, Map.of("error", "not_configured"));
                    return;
                }
                String problem = verifySignature(secret, exchange, body, Instant.now().getEpochSecond());
                if (problem != null) {
                    reply(exchange, 400, Map.of("error", "invalid_signature", "reason", problem));
                    return;
                }
                Object event;
                try {
                    event = Json.parse(new String(body, StandardCharsets.UTF_8));
                } catch (RuntimeException notJson) {
                    event = null;
                }
                String id = event instanceof Map<?, ?> map && map.get("id") instanceof String s ? s : null;
                if (id == null || !id.equals(exchange.getRequestHeaders().getFirst("webhook-id"))) {
                    reply(exchange, 400, Map.of("error", "invalid_signature", "reason",
                            "webhook-id and the event id differ"));
                    return;
                }
                boolean duplicate;
                synchronized (this) {
                    duplicate = !seen.add(id);
                }
                reply(exchange, 200, Map.of("received", true, "duplicate", duplicate));
                if (!duplicate) { // the effect, once per event id: here your handler would apply it
                    synchronized (this) {
                        processed.add(id);
                        apply((Map<?, ?>) event);
                    }
                }
            }
        }

        @Override
        public synchronized List<String> processedEvents() {
            return new ArrayList<>(processed);
        }

        @Override
        public synchronized String resourceStatus(String resourceId) {
            String[] state = states.get(resourceId);
            return state == null ? null : state[0];
        }

        /** Keep the status of the event's resource unless the receiver holds a newer one (ISO 8601 UTC timestamps
         *  of one format compare as text). */
        private void apply(Map<?, ?> event) {
            if (!(event.get("data") instanceof Map<?, ?> data) || !(data.get("id") instanceof String resource)
                    || !(data.get("status") instanceof String status)) {
                return;
            }
            String at = event.get("timestamp") instanceof String t ? Instant.parse(t).toString() : "";
            String[] current = states.get(resource);
            if (current == null || at.compareTo(current[1]) >= 0) {
                states.put(resource, new String[] {status, at});
            }
        }

        private static void reply(HttpExchange exchange, int status, Map<String, ?> answer) throws IOException {
            byte[] bytes = Json.write(answer).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
        }

        /** Why a delivery is not authentic, or null when it is (Standard Webhooks: HMAC-SHA256 over
         *  "{webhook-id}.{webhook-timestamp}.{body}" with the base64 key after "whsec_"). */
        static String verifySignature(String secret, HttpExchange exchange, byte[] body, long now) {
            String id = exchange.getRequestHeaders().getFirst("webhook-id");
            String timestamp = exchange.getRequestHeaders().getFirst("webhook-timestamp");
            String signatures = exchange.getRequestHeaders().getFirst("webhook-signature");
            if (id == null || timestamp == null || signatures == null) return "missing signature headers";
            if (!timestamp.matches("\\d{1,12}")) return "malformed timestamp";
            if (Math.abs(now - Long.parseLong(timestamp)) > TOLERANCE_S) return "timestamp outside the tolerance";
            byte[] expected;
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.replaceFirst("^whsec_", "")),
                        "HmacSHA256"));
                mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
                expected = mac.doFinal(body);
            } catch (Exception badSecret) {
                return "the signing secret is not base64 after whsec_";
            }
            for (String entry : signatures.split(" ")) {
                String[] parts = entry.split(",", 2);
                if (parts.length != 2 || !parts[0].equals("v1")) continue;
                try {
                    if (MessageDigest.isEqual(Base64.getDecoder().decode(parts[1]), expected)) return null;
                } catch (IllegalArgumentException notBase64) {
                    // try the next one
                }
            }
            return "no signature matches the body";
        }
    }

    /** One JSON log line on stderr (never given headers or credentials). */
    static void log(String level, Map<String, Object> fields) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("level", level);
        line.put("time", Instant.now().toString());
        line.putAll(fields);
        System.err.println(Json.write(line));
    }

    // ---- the protocol runtime: no need to edit below this line -----------------------------------------------

    static final int PROTOCOL = 1;
    /** Where the runtime serves your webhook handler. */
    static final String WEBHOOK_PATH = "/webhooks/bluum";
    /** The real stdout, kept for the protocol; from here on System.out is System.err (the log). */
    private static final PrintStream PROTOCOL_OUT = takeStdout();

    private static PrintStream takeStdout() {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        System.setOut(System.err);
        return out;
    }

    /** What the suite hands the program (the environment table in docs/adapter-protocol.md). */
    public record Env(String baseUrl, Duration timeout, String credentialsFile, String webhookSecretFile,
                      String tlsCertFile, String tlsKeyFile, String caFile) {
        static Env fromProcess() {
            double seconds;
            try {
                seconds = Double.parseDouble(System.getenv().getOrDefault("BLUUM_REQUEST_TIMEOUT_S", "10"));
            } catch (NumberFormatException bad) {
                seconds = 10;
            }
            return new Env(System.getenv("BLUUM_API_BASE_URL"), Duration.ofMillis((long) (seconds * 1000)),
                    System.getenv("BLUUM_CREDENTIALS_FILE"), System.getenv("BLUUM_WEBHOOK_SECRET_FILE"),
                    System.getenv("BLUUM_WEBHOOK_TLS_CERT"), System.getenv("BLUUM_WEBHOOK_TLS_KEY"),
                    System.getenv("BLUUM_WEBHOOK_CA_FILE"));
        }

        /** The current key pair, {"key", "secret"}, as the secret source holds it now: read it for each request. */
        public Map<String, String> credentials() throws IOException {
            Object pair = Json.parse(Files.readString(Path.of(credentialsFile)));
            if (pair instanceof Map<?, ?> map && map.get("key") instanceof String key
                    && map.get("secret") instanceof String secret) {
                return Map.of("key", key, "secret", secret);
            }
            throw new IOException("BLUUM_CREDENTIALS_FILE does not hold {\"key\": …, \"secret\": …}");
        }

        /** Your webhook's signing secret ("whsec_…") once the suite has registered your receiver, else null. */
        public String webhookSecret() throws IOException {
            if (webhookSecretFile == null) return null;
            try {
                String secret = Files.readString(Path.of(webhookSecretFile)).trim();
                return secret.isEmpty() ? null : secret;
            } catch (NoSuchFileException notYet) {
                return null;
            }
        }
    }

    @FunctionalInterface
    interface Operation {
        Object call(Map<String, Object> params) throws Exception;
    }

    static Map<String, Operation> operations(BluumClient client) {
        Map<String, Operation> table = new LinkedHashMap<>();
        table.put("create_investor", p -> client.createInvestor(obj(p, "profile")));
        table.put("upload_document", p -> {
            Map<String, Object> document = obj(p, "document");
            return client.uploadDocument(str(p, "investor_id"), new Document(str(document, "document_type"),
                    str(document, "purpose"), str(document, "file_name"),
                    Base64.getDecoder().decode(str(document, "content_base64"))));
        });
        table.put("kyc_status", p -> client.kycStatus(str(p, "investor_id")));
        table.put("link_bank_account", p -> client.linkBankAccount(str(p, "investor_id"), obj(p, "bank")));
        table.put("deposit", p -> client.deposit(str(p, "investor_id"), str(p, "funding_source_id"),
                str(p, "amount"), str(p, "method")));
        table.put("place_order", p -> client.placeOrder(str(p, "investor_id"), obj(p, "order")));
        table.put("get_order", p -> client.getOrder(str(p, "investor_id"), str(p, "order_id")));
        table.put("cancel_order", p -> {
            client.cancelOrder(str(p, "investor_id"), str(p, "order_id"));
            return null;
        });
        table.put("positions", p -> client.positions(str(p, "investor_id")));
        table.put("withdraw", p -> client.withdraw(str(p, "investor_id"), str(p, "funding_source_id"),
                str(p, "amount"), str(p, "method")));
        if (client == null) {
            table.replaceAll((method, op) -> p -> {
                throw new UnsupportedOperationException("TODO: " + method
                        + " is not wired to our Bluum client yet (integration() in BluumAdapter.java)");
            });
        }
        return table;
    }

    private static String str(Map<String, Object> params, String name) {
        return params.get(name) instanceof String s ? s : null;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> obj(Map<String, Object> params, String name) {
        return params.get(name) instanceof Map<?, ?> map ? (Map<String, Object>) map : new LinkedHashMap<>();
    }

    public static void main(String[] args) throws Exception {
        Env env = Env.fromProcess();
        Integration wired = integration(env);
        Map<String, Operation> table = operations(wired.client());
        Map<String, Object> capabilities = new LinkedHashMap<>();
        capabilities.put("request_log", false);
        capabilities.put("alerts", false);
        capabilities.put("processed_events", false);
        capabilities.put("resource_status", false);
        capabilities.put("webhook_url", null);
        if (wired.client() instanceof RequestLogger logger) {
            capabilities.put("request_log", true);
            table.put("request_log", p -> logger.requestLog());
        }
        if (wired.client() instanceof Alerter alerter) {
            capabilities.put("alerts", true);
            table.put("alerts", p -> alerter.alerts());
        }
        HttpsServer receiver = null;
        if (wired.webhooks() != null && env.tlsCertFile() != null) {
            receiver = serveWebhooks(wired.webhooks(), env);
            capabilities.put("webhook_url", "https://127.0.0.1:" + receiver.getAddress().getPort() + WEBHOOK_PATH);
            if (wired.webhooks() instanceof EventProcessor processor) {
                capabilities.put("processed_events", true);
                table.put("processed_events", p -> processor.processedEvents());
            }
            if (wired.webhooks() instanceof StateReporter reporter) {
                capabilities.put("resource_status", true);
                table.put("resource_status", p -> reporter.resourceStatus(str(p, "resource_id")));
            }
        }
        serve(table, "bluum-adapter", capabilities);
        // Stopped before exiting: while its thread waits for connections, the JVM's exit waits ~0.3 s for it.
        if (receiver != null) receiver.stop(0);
        System.exit(0);
    }

    /** Answer the suite's requests until stdin closes (then return), each on its own thread: a slow or hung
     *  request never holds up those after it. */
    static void serve(Map<String, Operation> table, String name, Map<String, Object> capabilities)
            throws IOException, InterruptedException {
        ExecutorService workers = Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task, "bluum-adapter-request");
            thread.setDaemon(true);
            return thread;
        });
        BufferedReader input = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = input.readLine()) != null; ) {
            if (line.isBlank()) continue;
            String request = line;
            workers.execute(() -> handle(request, table, name, capabilities));
        }
        workers.shutdown(); // stdin closed: the suite is done with us; answer what is in flight (for 1 s at most)
        workers.awaitTermination(1, TimeUnit.SECONDS);
    }

    static void handle(String line, Map<String, Operation> table, String name, Map<String, Object> capabilities) {
        Map<?, ?> request;
        try {
            request = Json.parse(line) instanceof Map<?, ?> map ? map : null;
        } catch (RuntimeException notJson) {
            request = null;
        }
        if (request == null) {
            send(response(null, "error", Map.of("code", -32700, "message", "parse error")));
            return;
        }
        Object id = request.get("id");
        String method = String.valueOf(request.get("method"));
        if (method.equals("initialize")) {
            send(response(id, "result", Map.of("protocol", PROTOCOL, "name", name, "capabilities", capabilities)));
            return;
        }
        if (method.equals("shutdown")) {
            send(response(id, "result", null));
            return;
        }
        Operation operation = table.get(method);
        if (operation == null) {
            send(response(id, "error", Map.of("code", -32601, "message", "no such method: " + method)));
            return;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> params = request.get("params") instanceof Map<?, ?> map ? (Map<String, Object>) map
                : new LinkedHashMap<>();
        try {
            send(response(id, "result", operation.call(params)));
        } catch (Throwable err) { // an operation that fails (or crashes) fails that request, not the program
            send(response(id, "error", rpcError(err)));
        }
    }

    private static Map<String, Object> response(Object id, String kind, Object value) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("jsonrpc", "2.0");
        message.put("id", id);
        message.put(kind, value);
        return message;
    }

    /** Write one message as one line on the protocol's stdout. */
    static void send(Map<String, Object> message) {
        String line = Json.write(message) + "\n";
        synchronized (PROTOCOL_OUT) {
            PROTOCOL_OUT.print(line);
            PROTOCOL_OUT.flush();
        }
    }

    /** The JSON-RPC error object for a failed operation: what the API answered, or which network failure. */
    static Map<String, Object> rpcError(Throwable err) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("status", null);
        data.put("code", null);
        data.put("param", null);
        data.put("request_id", null);
        data.put("transport", null);
        for (Throwable cause = err; cause != null; cause = cause.getCause()) {
            if (cause instanceof BluumApiException api) {
                data.put("status", api.status);
                data.put("code", api.code);
                data.put("param", api.param);
                data.put("request_id", api.requestId);
                data.put("transport", api.transport);
                break;
            }
        }
        if (data.get("status") == null && data.get("transport") == null) data.put("transport", transportName(err));
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", -32000);
        error.put("message", String.valueOf(err.getMessage() != null ? err.getMessage() : err));
        error.put("data", data);
        return error;
    }

    /** A network failure named the way the suite reports it (null for an error that is not one). */
    static String transportName(Throwable err) {
        for (Throwable cause = err; cause != null; cause = cause.getCause()) {
            if (cause instanceof HttpTimeoutException || cause instanceof SocketTimeoutException) return "ETIMEDOUT";
            if (cause instanceof ConnectException) return "ECONNREFUSED";
        }
        for (Throwable cause = err; cause != null; cause = cause.getCause()) {
            if (cause instanceof IOException io) {
                String message = String.valueOf(io.getMessage()).toLowerCase();
                if (message.contains("reset") || message.contains("eof") || message.contains("closed")
                        || message.contains("no bytes")) {
                    return "ECONNRESET";
                }
                return io.getClass().getSimpleName();
            }
        }
        return null;
    }

    /** Serve handler over HTTPS with the suite's certificate on 127.0.0.1 (a free port). Its TLS is set up on the
     *  first connection ({@link #onFirstUse}): the suite starts the program anew for each check, and most checks
     *  send no webhook. */
    static HttpsServer serveWebhooks(HttpHandler handler, Env env) throws Exception {
        for (String file : new String[] {env.tlsCertFile(), env.tlsKeyFile()}) {
            if (file == null || !Files.isReadable(Path.of(file))) {
                throw new IllegalArgumentException("BLUUM_WEBHOOK_TLS_CERT and BLUUM_WEBHOOK_TLS_KEY must name "
                        + "readable files (the suite sets them): cannot read " + file);
            }
        }
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(onFirstUse(() -> receiverTls(env))));
        server.setExecutor(Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task, "bluum-adapter-webhooks");
            thread.setDaemon(true);
            return thread;
        }));
        server.createContext(WEBHOOK_PATH, handler);
        server.start();
        return server;
    }

    /** The receiver's TLS: the suite's certificate and key. */
    static SSLContext receiverTls(Env env) throws Exception {
        List<Certificate> chain = new ArrayList<>(CertificateFactory.getInstance("X.509")
                .generateCertificates(Files.newInputStream(Path.of(env.tlsCertFile()))));
        // An in-memory store only: JKS, whose key protection costs nothing, not PKCS12, which derives a key with
        // 10,000 PBKDF2 rounds to store the entry and again to read it (~0.06 s of CPU each time).
        KeyStore store = KeyStore.getInstance("JKS");
        store.load(null, null);
        char[] password = new char[0];
        store.setKeyEntry("receiver", Pem.privateKey(Files.readString(Path.of(env.tlsKeyFile()))), password,
                chain.toArray(new Certificate[0]));
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password);
        SSLContext tls = SSLContext.getInstance("TLS");
        // No trust managers: the receiver asks no client for a certificate, so it needs no trust store (null would
        // load the JDK's, ~0.06 s of CPU).
        tls.init(keys.getKeyManagers(), new TrustManager[0], null);
        return tls;
    }

    /**
     * An SSLContext made by {@code make} on first use, then reused. Setting up the JDK's TLS (its providers, the
     * certificate and key) costs ~0.25 s of CPU — at every start of the program, i.e. at every check of a run,
     * though most checks send no webhook; made lazily, only the checks that do pay it, on their first delivery.
     */
    static SSLContext onFirstUse(Callable<SSLContext> make) {
        final class Lazy extends SSLContextSpi {
            private SSLContext made;

            private synchronized SSLContext context() {
                if (made == null) {
                    try {
                        made = make.call();
                    } catch (Exception err) {
                        System.err.println("bluum-adapter: cannot set up the webhook receiver's TLS: " + err);
                        throw new IllegalStateException("the webhook receiver's TLS: " + err, err);
                    }
                }
                return made;
            }

            @Override
            protected void engineInit(KeyManager[] keys, TrustManager[] trust, SecureRandom random) {
                throw new UnsupportedOperationException("made by its Callable");
            }

            @Override
            protected SSLSocketFactory engineGetSocketFactory() {
                return context().getSocketFactory();
            }

            @Override
            protected SSLServerSocketFactory engineGetServerSocketFactory() {
                return context().getServerSocketFactory();
            }

            @Override
            protected SSLEngine engineCreateSSLEngine() {
                return context().createSSLEngine();
            }

            @Override
            protected SSLEngine engineCreateSSLEngine(String host, int port) {
                return context().createSSLEngine(host, port);
            }

            @Override
            protected SSLSessionContext engineGetServerSessionContext() {
                return context().getServerSessionContext();
            }

            @Override
            protected SSLSessionContext engineGetClientSessionContext() {
                return context().getClientSessionContext();
            }

            @Override
            protected SSLParameters engineGetDefaultSSLParameters() {
                return context().getDefaultSSLParameters();
            }

            @Override
            protected SSLParameters engineGetSupportedSSLParameters() {
                return context().getSupportedSSLParameters();
            }
        }
        return new SSLContext(new Lazy(), null, "TLS") { };
    }

    /** PEM private keys as the JDK wants them: PKCS#8 as is, SEC1 ("EC PRIVATE KEY") and PKCS#1 ("RSA PRIVATE
     *  KEY") wrapped into PKCS#8. */
    static final class Pem {
        /** DER: OID 1.2.840.10045.2.1 (id-ecPublicKey); OID 1.2.840.113549.1.1.1 (rsaEncryption) and NULL; 0. */
        private static final byte[] ID_EC_PUBLIC_KEY = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02,
            0x01};
        private static final byte[] ID_RSA_ENCRYPTION = {0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
            (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
        private static final byte[] VERSION_0 = {0x02, 0x01, 0x00};

        static PrivateKey privateKey(String pem) throws Exception {
            String type = pem.replaceAll("(?s).*-----BEGIN ([A-Z ]+)-----.*", "$1");
            byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
            return switch (type) {
                case "PRIVATE KEY" -> {
                    try {
                        yield KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
                    } catch (java.security.spec.InvalidKeySpecException notEc) {
                        yield KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
                    }
                }
                case "EC PRIVATE KEY" -> KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(
                        pkcs8(concat(ID_EC_PUBLIC_KEY, curveOid(der)), der)));
                case "RSA PRIVATE KEY" -> KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(
                        pkcs8(ID_RSA_ENCRYPTION, der)));
                default -> throw new IllegalArgumentException("BLUUM_WEBHOOK_TLS_KEY: unsupported PEM " + type);
            };
        }

        /** The named curve of a SEC1 key: the OID inside its [0] parameters. */
        private static byte[] curveOid(byte[] sec1) {
            int at = headerLength(sec1, 0); // inside the SEQUENCE
            while (at < sec1.length) {
                int length = contentLength(sec1, at), header = headerLength(sec1, at);
                if ((sec1[at] & 0xff) == 0xa0) {
                    return java.util.Arrays.copyOfRange(sec1, at + header, at + header + length);
                }
                at += header + length;
            }
            throw new IllegalArgumentException("BLUUM_WEBHOOK_TLS_KEY: an EC key without its curve");
        }

        private static byte[] pkcs8(byte[] algorithm, byte[] key) {
            return tlv(0x30, concat(VERSION_0, tlv(0x30, algorithm), tlv(0x04, key)));
        }

        private static int headerLength(byte[] der, int at) {
            int first = der[at + 1] & 0xff;
            return first < 0x80 ? 2 : 2 + (first & 0x7f);
        }

        private static int contentLength(byte[] der, int at) {
            int first = der[at + 1] & 0xff;
            if (first < 0x80) return first;
            int length = 0;
            for (int i = 0; i < (first & 0x7f); i++) length = (length << 8) | (der[at + 2 + i] & 0xff);
            return length;
        }

        private static byte[] tlv(int tag, byte[] content) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(tag);
            int length = content.length;
            if (length < 0x80) {
                out.write(length);
            } else if (length < 0x100) {
                out.write(0x81);
                out.write(length);
            } else {
                out.write(0x82);
                out.write(length >> 8);
                out.write(length & 0xff);
            }
            out.writeBytes(content);
            return out.toByteArray();
        }

        private static byte[] concat(byte[]... parts) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (byte[] part : parts) out.writeBytes(part);
            return out.toByteArray();
        }

    }

    /** A small JSON codec: objects are LinkedHashMaps, arrays ArrayLists, numbers BigDecimals (exact), and null,
     *  booleans and strings as themselves. */
    static final class Json {
        private final String text;
        private int at;

        private Json(String text) {
            this.text = text;
        }

        static Object parse(String text) {
            Json json = new Json(text);
            Object value = json.value();
            json.space();
            if (json.at != text.length()) throw json.error("trailing characters");
            return value;
        }

        static String write(Object value) {
            StringBuilder out = new StringBuilder();
            write(value, out);
            return out.toString();
        }

        private static void write(Object value, StringBuilder out) {
            if (value == null) {
                out.append("null");
            } else if (value instanceof String s) {
                quote(s, out);
            } else if (value instanceof Boolean || value instanceof Integer || value instanceof Long
                    || value instanceof BigDecimal) {
                out.append(value);
            } else if (value instanceof Number n) {
                double d = n.doubleValue();
                out.append(Double.isFinite(d) ? String.valueOf(d) : "null");
            } else if (value instanceof Map<?, ?> map) {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    if (!first) out.append(',');
                    first = false;
                    quote(String.valueOf(entry.getKey()), out);
                    out.append(':');
                    write(entry.getValue(), out);
                }
                out.append('}');
            } else if (value instanceof Iterable<?> items) {
                out.append('[');
                boolean first = true;
                for (Object item : items) {
                    if (!first) out.append(',');
                    first = false;
                    write(item, out);
                }
                out.append(']');
            } else {
                quote(value.toString(), out);
            }
        }

        private static void quote(String s, StringBuilder out) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    default -> {
                        if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }

        private Object value() {
            space();
            if (at >= text.length()) throw error("unexpected end");
            char c = text.charAt(at);
            switch (c) {
                case '{':
                    return object();
                case '[':
                    return array();
                case '"':
                    return string();
                case 't':
                    return literal("true", Boolean.TRUE);
                case 'f':
                    return literal("false", Boolean.FALSE);
                case 'n':
                    return literal("null", null);
                default:
                    return number();
            }
        }

        private Map<String, Object> object() {
            Map<String, Object> map = new LinkedHashMap<>();
            at++;
            space();
            if (peek() == '}') {
                at++;
                return map;
            }
            while (true) {
                space();
                if (peek() != '"') throw error("expected a key");
                String key = string();
                space();
                expect(':');
                map.put(key, value());
                space();
                if (peek() == ',') {
                    at++;
                } else {
                    expect('}');
                    return map;
                }
            }
        }

        private List<Object> array() {
            List<Object> list = new ArrayList<>();
            at++;
            space();
            if (peek() == ']') {
                at++;
                return list;
            }
            while (true) {
                list.add(value());
                space();
                if (peek() == ',') {
                    at++;
                } else {
                    expect(']');
                    return list;
                }
            }
        }

        private String string() {
            StringBuilder out = new StringBuilder();
            at++;
            while (true) {
                if (at >= text.length()) throw error("unterminated string");
                char c = text.charAt(at++);
                if (c == '"') return out.toString();
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char e = text.charAt(at++);
                switch (e) {
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'u' -> {
                        out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                        at += 4;
                    }
                    default -> out.append(e);
                }
            }
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, at)) throw error("unexpected character");
            at += word.length();
            return value;
        }

        private BigDecimal number() {
            int start = at;
            while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) at++;
            try {
                return new BigDecimal(text.substring(start, at));
            } catch (NumberFormatException bad) {
                throw error("not a number");
            }
        }

        private char peek() {
            return at < text.length() ? text.charAt(at) : '\0';
        }

        private void expect(char c) {
            if (peek() != c) throw error("expected '" + c + "'");
            at++;
        }

        private void space() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) at++;
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("invalid JSON at " + at + ": " + what);
        }
    }
}
