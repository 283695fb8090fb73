// bluum_adapter.go: our Bluum integration, as bluum-readiness drives it (adapter protocol 1).
//
// Run it:  go build -o bluum-adapter bluum_adapter.go
//          bluum-readiness run --integration "exec:./bluum-adapter"
//
// bluum-readiness starts this program once per check and sends it one JSON-RPC 2.0 request per line on stdin;
// the runtime at the bottom answers each on stdout, each request in its own goroutine. Wire integration() below
// to YOUR Bluum client (your SDK wrapper, service layer or HTTP backend) and YOUR webhook handler: the suite
// proves how *that* code behaves through a fault-injecting proxy. The rules (docs/adapter-protocol.md):
//
//   - send every Bluum call to env.BaseURL (the suite's proxy, ending in /v1), never a hard-coded URL;
//   - take the key pair from env.Credentials() for each request, or at least again after a 401: the file behind
//     it is your secret manager's stand-in, and the suite rewrites it when it rotates the pair;
//   - use env.Timeout as your per-request timeout;
//   - log to stderr: stdout carries the protocol. From the moment this program starts, os.Stdout IS stderr
//     (fmt.Println and the log package go there); a logger a package built at init time on the real stdout
//     (fd 1) must be pointed at os.Stderr. The suite reads that log: one line per HTTP exchange with method,
//     path, status, X-Request-Id and duration (JSON or text), failed attempts with what went wrong, never a secret;
//   - return an error when an operation fails: an *APIError (Status, Code = Bluum's BLUM-… code, RequestID =
//     the answer's X-Request-Id) when the API answered; Go's network errors (timeouts, ECONNRESET, ECONNREFUSED)
//     are recognised as they are, also when wrapped with %w.
//
// Standard library only: Go 1.19 or newer. The example client and receiver below talk to Bluum directly and
// pass the suite against the twin; start from them, or replace them with yours.

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ---- your integration ----------------------------------------------------------------------------------

// integration builds what the suite drives: your Bluum client, wrapped to BluumClient, and your webhook handler
// (nil: no receiver, and the webhook checks are "not verifiable"). Called once, when the program starts.
//
// TODO: return your client and handler, e.g.
//
//	return &acmeBluum{client: acme.NewClient(acme.Config{BaseURL: env.BaseURL, Timeout: env.Timeout,
//		Credentials: env.Credentials})}, acme.WebhookHandler(env.WebhookSecret)
//
// To see the suite pass first, use the example client and receiver below this function:
//
//	return NewExampleClient(env), NewExampleReceiver(env)
func integration(env Env) (BluumClient, http.Handler) {
	return nil, nil // TODO: your client and webhook handler (see above)
}

// BluumClient is what each operation calls: one method per operation, each one Bluum call (or a few).
type BluumClient interface {
	// CreateInvestor: POST /investors with profile; the investor id (inv_…).
	CreateInvestor(profile map[string]any) (string, error)
	// UploadDocument: POST /documents as multipart (document_type, purpose, investor_id, and the file as
	// `document`); the document id (doc_…).
	UploadDocument(investorID string, document Document) (string, error)
	// KYCStatus: GET /investors/{investorID}; its `status`.
	KYCStatus(investorID string) (string, error)
	// LinkBankAccount: POST /investors/{investorID}/funding-sources/connect with bank (a Plaid or manual connect
	// body); the funding source id (fs_…). A Plaid connect answers a list envelope {"data": [...]}, a manual
	// one the funding source itself.
	LinkBankAccount(investorID string, bank map[string]any) (string, error)
	// Deposit: POST /investors/{investorID}/deposits {amount, currency: "USD", method, funding_source_id} with an
	// Idempotency-Key header (the same on every retry); the deposit id (dep_…).
	Deposit(investorID, fundingSourceID, amount, method string) (string, error)
	// PlaceOrder: POST /investors/{investorID}/orders with order; the order id (ord_…).
	PlaceOrder(investorID string, order map[string]any) (string, error)
	// GetOrder: GET /investors/{investorID}/orders/{orderID}; the order object.
	GetOrder(investorID, orderID string) (map[string]any, error)
	// CancelOrder: POST /investors/{investorID}/orders/{orderID}/cancel.
	CancelOrder(investorID, orderID string) error
	// Positions: GET /investors/{investorID}/positions, every page; the positions.
	Positions(investorID string) ([]any, error)
	// Withdraw: POST /investors/{investorID}/withdrawals {amount, currency: "USD", method, funding_source_id} with
	// an Idempotency-Key header (the same on every retry); the withdrawal id (wd_…).
	Withdraw(investorID, fundingSourceID, amount, method string) (string, error)
}

// Optional capabilities: implement one on your client (or, ProcessedEvents, on your webhook handler) and the
// runtime advertises it. Checks that need one are "not verifiable" without it, never passed.
type (
	// RequestLogger: one entry per HTTP exchange, {method, path, status, request_id, duration_ms}.
	RequestLogger interface{ RequestLog() []map[string]any }
	// Alerter: {kind: "elevated_5xx" | "rate_limited" | "stuck_order" | "webhook_failure", …} per alert raised.
	Alerter interface{ Alerts() []map[string]any }
	// EventProcessor: the event ids whose effects your receiver applied, one per application.
	EventProcessor interface{ ProcessedEvents() []string }
	// StateReporter: the status your receiver holds for a resource (an order's "filled"…) after the events it
	// applied, false when it holds none; webhooks.out-of-order reads it to see an older event never overwrite a newer.
	StateReporter interface {
		ResourceStatus(resourceID string) (string, bool)
	}
)

// Document is an upload_document's document, its content decoded.
type Document struct {
	DocumentType, Purpose, FileName string
	Content                         []byte
}

// APIError is a failed operation as the suite reads it. Status, Code (BLUM-…), Param and RequestID: what the API
// answered; Transport: the network failure when it did not answer (ECONNRESET, ETIMEDOUT, …). Return one
// (wrapped or not) and the runtime reports its fields; map your own client's error type to it.
type APIError struct {
	Message   string
	Status    int
	Code      string
	Param     string
	RequestID string
	Transport string
}

func (e *APIError) Error() string { return e.Message }

// ---- an example client and receiver: replace them with yours ----------------------------------------------

// ExampleClient talks to the Bluum API with net/http: the credentials file read for every attempt (and again
// after a 401), one Idempotency-Key per POST kept across its retries, retries of 429/5xx and network failures with
// capped full-jitter backoff honouring Retry-After, one JSON log line per attempt on stderr.
type ExampleClient struct {
	env         Env
	http        *http.Client
	maxAttempts int
	baseDelay   time.Duration
	maxDelay    time.Duration
}

// NewExampleClient is the example client on the suite's settings.
func NewExampleClient(env Env) *ExampleClient {
	return &ExampleClient{env: env, http: &http.Client{}, maxAttempts: 5, baseDelay: 50 * time.Millisecond,
		maxDelay: 2 * time.Second}
}

type idOnly struct {
	ID string `json:"id"`
}

func (c *ExampleClient) CreateInvestor(profile map[string]any) (string, error) {
	var investor idOnly
	return investor.ID, c.call("POST", "/investors", jsonBody(profile), &investor)
}

func (c *ExampleClient) UploadDocument(investorID string, document Document) (string, error) {
	var form bytes.Buffer
	writer := multipart.NewWriter(&form)
	_ = writer.WriteField("document_type", document.DocumentType)
	_ = writer.WriteField("purpose", document.Purpose)
	_ = writer.WriteField("investor_id", investorID)
	file, _ := writer.CreateFormFile("document", document.FileName)
	_, _ = file.Write(document.Content)
	_ = writer.Close()
	var uploaded idOnly
	return uploaded.ID, c.call("POST", "/documents", &body{writer.FormDataContentType(), form.Bytes()}, &uploaded)
}

func (c *ExampleClient) KYCStatus(investorID string) (string, error) {
	var investor struct {
		Status string `json:"status"`
	}
	return investor.Status, c.call("GET", "/investors/"+url.PathEscape(investorID), nil, &investor)
}

func (c *ExampleClient) LinkBankAccount(investorID string, bank map[string]any) (string, error) {
	path := "/investors/" + url.PathEscape(investorID) + "/funding-sources"
	if bank["type"] == "plaid" { // Plaid: a link token first; the connect then answers a list envelope
		if err := c.call("POST", path+"/plaid/link-token", jsonBody(map[string]any{}), nil); err != nil {
			return "", err
		}
		var linked struct {
			Data []idOnly `json:"data"`
		}
		if err := c.call("POST", path+"/connect", jsonBody(bank), &linked); err != nil {
			return "", err
		}
		if len(linked.Data) == 0 {
			return "", &APIError{Message: "the Plaid connect linked no account"}
		}
		return linked.Data[0].ID, nil
	}
	var source idOnly // a manual connect answers the funding source itself
	return source.ID, c.call("POST", path+"/connect", jsonBody(bank), &source)
}

func (c *ExampleClient) Deposit(investorID, fundingSourceID, amount, method string) (string, error) {
	var deposit idOnly
	transfer := map[string]any{"amount": amount, "currency": "USD", "method": method, "funding_source_id": fundingSourceID}
	return deposit.ID, c.call("POST", "/investors/"+url.PathEscape(investorID)+"/deposits", jsonBody(transfer), &deposit)
}

func (c *ExampleClient) PlaceOrder(investorID string, order map[string]any) (string, error) {
	var placed idOnly
	return placed.ID, c.call("POST", "/investors/"+url.PathEscape(investorID)+"/orders", jsonBody(order), &placed)
}

func (c *ExampleClient) GetOrder(investorID, orderID string) (map[string]any, error) {
	var order map[string]any
	path := "/investors/" + url.PathEscape(investorID) + "/orders/" + url.PathEscape(orderID)
	return order, c.call("GET", path, nil, &order)
}

func (c *ExampleClient) CancelOrder(investorID, orderID string) error {
	path := "/investors/" + url.PathEscape(investorID) + "/orders/" + url.PathEscape(orderID) + "/cancel"
	return c.call("POST", path, nil, nil)
}

func (c *ExampleClient) Positions(investorID string) ([]any, error) {
	positions := []any{}
	for {
		var page struct {
			Data    []any `json:"data"`
			HasMore bool  `json:"has_more"`
		}
		path := fmt.Sprintf("/investors/%s/positions?limit=200&offset=%d", url.PathEscape(investorID), len(positions))
		if err := c.call("GET", path, nil, &page); err != nil {
			return nil, err
		}
		positions = append(positions, page.Data...)
		if !page.HasMore || len(page.Data) == 0 {
			return positions, nil
		}
	}
}

func (c *ExampleClient) Withdraw(investorID, fundingSourceID, amount, method string) (string, error) {
	var withdrawal idOnly
	transfer := map[string]any{"amount": amount, "currency": "USD", "method": method, "funding_source_id": fundingSourceID}
	path := "/investors/" + url.PathEscape(investorID) + "/withdrawals"
	return withdrawal.ID, c.call("POST", path, jsonBody(transfer), &withdrawal)
}

type body struct {
	contentType string
	bytes       []byte
}

func jsonBody(value any) *body {
	encoded, _ := json.Marshal(value)
	return &body{"application/json", encoded}
}

// call makes one logical call: every attempt carries the same Idempotency-Key; out receives the JSON answer.
func (c *ExampleClient) call(method, path string, payload *body, out any) error {
	idempotencyKey := ""
	if method == "POST" {
		idempotencyKey = newUUID()
	}
	refreshed := false
	for attempt := 1; ; attempt++ {
		status, header, answer, err := c.attempt(method, path, payload, idempotencyKey, attempt)
		if err != nil { // no answer: a timeout, a reset, a refused connection
			if attempt < c.maxAttempts {
				time.Sleep(c.backoff(attempt, 0))
				continue
			}
			return fmt.Errorf("%s %s failed after %d attempts: %w", method, path, attempt, err)
		}
		switch {
		case status < 300:
			if out == nil || len(answer) == 0 {
				return nil
			}
			decoder := json.NewDecoder(bytes.NewReader(answer))
			decoder.UseNumber()
			return decoder.Decode(out)
		case status == 401 && !refreshed: // the pair may have been rotated: read it again, once
			refreshed = true
			attempt--
			continue
		case retryable(status) && attempt < c.maxAttempts:
			retryAfter, _ := strconv.Atoi(header.Get("Retry-After"))
			time.Sleep(c.backoff(attempt, time.Duration(retryAfter)*time.Second))
			continue
		}
		return apiError(method, path, status, header, answer)
	}
}

func retryable(status int) bool {
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504
}

// backoff is full jitter on a doubling window capped at maxDelay, and never shorter than Retry-After (itself
// capped at 30 s).
func (c *ExampleClient) backoff(attempt int, retryAfter time.Duration) time.Duration {
	window := c.baseDelay << attempt
	if window > c.maxDelay || window <= 0 {
		window = c.maxDelay
	}
	wait := time.Duration(mathrand.Int63n(int64(window)))
	if retryAfter > 30*time.Second {
		retryAfter = 30 * time.Second
	}
	if retryAfter > wait {
		wait = retryAfter
	}
	return wait
}

func (c *ExampleClient) attempt(method, path string, payload *body, idempotencyKey string, attempt int) (
	int, http.Header, []byte, error) {
	pair, err := c.env.Credentials()
	if err != nil {
		return 0, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.env.Timeout)
	defer cancel()
	var reader io.Reader
	if payload != nil {
		reader = bytes.NewReader(payload.bytes)
	}
	request, err := http.NewRequestWithContext(ctx, method, c.env.BaseURL+path, reader)
	if err != nil {
		return 0, nil, nil, err
	}
	request.SetBasicAuth(pair.Key, pair.Secret)
	request.Header.Set("Accept", "application/json")
	if payload != nil {
		request.Header.Set("Content-Type", payload.contentType)
	}
	if idempotencyKey != "" {
		request.Header.Set("Idempotency-Key", idempotencyKey)
	}
	started := time.Now()
	response, err := c.http.Do(request)
	var answer []byte
	if err == nil {
		answer, err = io.ReadAll(response.Body)
		response.Body.Close()
	}
	entry := map[string]any{"msg": "bluum request", "method": method, "path": request.URL.Path,
		"duration_ms": float64(time.Since(started).Microseconds()) / 1000, "attempt": attempt}
	if err != nil {
		entry["status"], entry["request_id"], entry["error"] = nil, nil, transportName(err)
		logJSON("warn", entry)
		return 0, nil, nil, err
	}
	entry["status"], entry["request_id"] = response.StatusCode, response.Header.Get("X-Request-Id")
	level := "info"
	if response.StatusCode >= 500 {
		level = "warn"
	}
	logJSON(level, entry)
	return response.StatusCode, response.Header, answer, nil
}

func apiError(method, path string, status int, header http.Header, answer []byte) error {
	var envelope struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Param   string `json:"param"`
		} `json:"error"`
	}
	_ = json.Unmarshal(answer, &envelope)
	message := envelope.Error.Message
	if message == "" {
		message = fmt.Sprintf("%s %s answered %d", method, path, status)
	}
	return &APIError{Message: message, Status: status, Code: envelope.Error.Code, Param: envelope.Error.Param,
		RequestID: header.Get("X-Request-Id")}
}

// logJSON writes one JSON log line to stderr (never given headers or credentials).
func logJSON(level string, fields map[string]any) {
	fields["level"], fields["time"] = level, time.Now().UTC().Format(time.RFC3339Nano)
	line, _ := json.Marshal(fields)
	os.Stderr.Write(append(line, '\n'))
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// ExampleReceiver is a Bluum webhook receiver: the Standard Webhooks signature verified over the raw body with a
// constant-time compare and a 5-minute tolerance before anything else, 200 as soon as the event is taken, and one
// application per event id however often and however concurrently it arrives.
type ExampleReceiver struct {
	env       Env
	mu        sync.Mutex
	seen      map[string]bool
	processed []string
	states    map[string]resourceState // resource id -> the newest event's status, by the event's own timestamp
}

type resourceState struct {
	status string
	at     time.Time
}

// NewExampleReceiver is the example receiver; the runtime serves it over HTTPS.
func NewExampleReceiver(env Env) *ExampleReceiver {
	return &ExampleReceiver{env: env, seen: map[string]bool{}, processed: []string{}, states: map[string]resourceState{}}
}

const signatureTolerance = 5 * time.Minute

func (r *ExampleReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	reply := func(status int, answer map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(answer)
	}
	if req.Method != http.MethodPost {
		reply(405, map[string]any{"error": "method_not_allowed"})
		return
	}
	payload, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		reply(400, map[string]any{"error": "unreadable_body"})
		return
	}
	secret, err := r.env.WebhookSecret()
	if err != nil || secret == "" {
		reply(503, map[string]any{"error": "not_configured"})
		return
	}
	if problem := verifySignature(secret, req.Header, payload, time.Now()); problem != "" {
		reply(400, map[string]any{"error": "invalid_signature", "reason": problem})
		return
	}
	var event struct {
		ID        string    `json:"id"`
		Timestamp time.Time `json:"timestamp"`
		Data      struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"data"`
	}
	if json.Unmarshal(payload, &event) != nil || event.ID == "" || event.ID != req.Header.Get("webhook-id") {
		reply(400, map[string]any{"error": "invalid_signature", "reason": "webhook-id and the event id differ"})
		return
	}
	r.mu.Lock()
	duplicate := r.seen[event.ID]
	r.seen[event.ID] = true
	r.mu.Unlock()
	reply(200, map[string]any{"received": true, "duplicate": duplicate})
	if !duplicate { // the effect, once per event id: here your handler would apply it
		r.mu.Lock()
		r.processed = append(r.processed, event.ID)
		if current, known := r.states[event.Data.ID]; event.Data.ID != "" && event.Data.Status != "" &&
			(!known || !event.Timestamp.Before(current.at)) { // an older event never overwrites a newer one
			r.states[event.Data.ID] = resourceState{status: event.Data.Status, at: event.Timestamp}
		}
		r.mu.Unlock()
	}
}

// ProcessedEvents makes the runtime advertise processed_events.
func (r *ExampleReceiver) ProcessedEvents() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string{}, r.processed...)
}

// ResourceStatus makes the runtime advertise resource_status.
func (r *ExampleReceiver) ResourceStatus(resourceID string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	state, known := r.states[resourceID]
	return state.status, known
}

// verifySignature says why a delivery is not authentic, or "" when it is (Standard Webhooks: HMAC-SHA256 over
// "{webhook-id}.{webhook-timestamp}.{body}" with the base64 key after "whsec_").
func verifySignature(secret string, header http.Header, payload []byte, now time.Time) string {
	id, timestamp, signatures := header.Get("webhook-id"), header.Get("webhook-timestamp"), header.Get("webhook-signature")
	if id == "" || timestamp == "" || signatures == "" {
		return "missing signature headers"
	}
	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return "malformed timestamp"
	}
	if age := now.Sub(time.Unix(seconds, 0)); age > signatureTolerance || age < -signatureTolerance {
		return "timestamp outside the tolerance"
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "the signing secret is not base64 after whsec_"
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(payload)
	expected := mac.Sum(nil)
	for _, entry := range strings.Split(signatures, " ") {
		version, value, found := strings.Cut(entry, ",")
		if !found || version != "v1" {
			continue
		}
		if given, err := base64.StdEncoding.DecodeString(value); err == nil && hmac.Equal(given, expected) {
			return ""
		}
	}
	return "no signature matches the body"
}

// ---- the protocol runtime: no need to edit below this line -----------------------------------------------

const protocolVersion = 1

// WebhookPath is where the runtime serves your webhook handler.
const WebhookPath = "/webhooks/bluum"

// protocolOut is the real stdout, kept for the protocol; from here on os.Stdout is stderr (the log).
var protocolOut = takeStdout()

func takeStdout() *os.File {
	out := os.Stdout
	os.Stdout = os.Stderr
	return out
}

// Env is what the suite hands the program (the environment table in docs/adapter-protocol.md).
type Env struct {
	BaseURL           string
	Timeout           time.Duration
	CredentialsFile   string
	WebhookSecretFile string
	TLSCertFile       string
	TLSKeyFile        string
	CAFile            string
}

// Credentials is a Bluum key pair.
type Credentials struct {
	Key    string `json:"key"`
	Secret string `json:"secret"`
}

// EnvFromProcess reads the suite's variables.
func EnvFromProcess() Env {
	seconds, err := strconv.ParseFloat(os.Getenv("BLUUM_REQUEST_TIMEOUT_S"), 64)
	if err != nil || seconds <= 0 {
		seconds = 10
	}
	return Env{
		BaseURL:           os.Getenv("BLUUM_API_BASE_URL"),
		Timeout:           time.Duration(seconds * float64(time.Second)),
		CredentialsFile:   os.Getenv("BLUUM_CREDENTIALS_FILE"),
		WebhookSecretFile: os.Getenv("BLUUM_WEBHOOK_SECRET_FILE"),
		TLSCertFile:       os.Getenv("BLUUM_WEBHOOK_TLS_CERT"),
		TLSKeyFile:        os.Getenv("BLUUM_WEBHOOK_TLS_KEY"),
		CAFile:            os.Getenv("BLUUM_WEBHOOK_CA_FILE"),
	}
}

// Credentials is the current key pair, as the secret source holds it now: read it for each request.
func (e Env) Credentials() (Credentials, error) {
	var pair Credentials
	raw, err := os.ReadFile(e.CredentialsFile)
	if err == nil {
		err = json.Unmarshal(raw, &pair)
	}
	if err != nil {
		return pair, fmt.Errorf("cannot read the credentials file BLUUM_CREDENTIALS_FILE: %w", err)
	}
	return pair, nil
}

// WebhookSecret is your webhook's signing secret ("whsec_…") once the suite has registered your receiver, else "".
func (e Env) WebhookSecret() (string, error) {
	if e.WebhookSecretFile == "" {
		return "", nil
	}
	raw, err := os.ReadFile(e.WebhookSecretFile)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return strings.TrimSpace(string(raw)), err
}

type params map[string]any

func (p params) str(name string) string         { s, _ := p[name].(string); return s }
func (p params) obj(name string) map[string]any { o, _ := p[name].(map[string]any); return o }

type operation func(params) (any, error)

func operations(client BluumClient) map[string]operation {
	str := func(id string, err error) (any, error) { return id, err }
	return map[string]operation{
		"create_investor": func(p params) (any, error) { return str(client.CreateInvestor(p.obj("profile"))) },
		"upload_document": func(p params) (any, error) {
			doc := params(p.obj("document"))
			content, err := base64.StdEncoding.DecodeString(doc.str("content_base64"))
			if err != nil {
				return nil, fmt.Errorf("document.content_base64 is not base64: %w", err)
			}
			return str(client.UploadDocument(p.str("investor_id"), Document{DocumentType: doc.str("document_type"),
				Purpose: doc.str("purpose"), FileName: doc.str("file_name"), Content: content}))
		},
		"kyc_status": func(p params) (any, error) { return str(client.KYCStatus(p.str("investor_id"))) },
		"link_bank_account": func(p params) (any, error) {
			return str(client.LinkBankAccount(p.str("investor_id"), p.obj("bank")))
		},
		"deposit": func(p params) (any, error) {
			return str(client.Deposit(p.str("investor_id"), p.str("funding_source_id"), p.str("amount"), p.str("method")))
		},
		"place_order": func(p params) (any, error) { return str(client.PlaceOrder(p.str("investor_id"), p.obj("order"))) },
		"get_order":   func(p params) (any, error) { return client.GetOrder(p.str("investor_id"), p.str("order_id")) },
		"cancel_order": func(p params) (any, error) {
			return nil, client.CancelOrder(p.str("investor_id"), p.str("order_id"))
		},
		"positions": func(p params) (any, error) { return client.Positions(p.str("investor_id")) },
		"withdraw": func(p params) (any, error) {
			return str(client.Withdraw(p.str("investor_id"), p.str("funding_source_id"), p.str("amount"), p.str("method")))
		},
	}
}

func notWired(method string) operation {
	return func(params) (any, error) {
		return nil, fmt.Errorf("TODO: %s is not wired to our Bluum client yet (integration() in bluum_adapter.go)", method)
	}
}

type request struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

var writeMu sync.Mutex

// send writes one message as one line on the protocol's stdout.
func send(message map[string]any) {
	line, err := json.Marshal(message)
	if err != nil {
		line, _ = json.Marshal(map[string]any{"jsonrpc": "2.0", "id": message["id"],
			"error": map[string]any{"code": -32603, "message": "the result cannot be encoded as JSON: " + err.Error()}})
	}
	writeMu.Lock()
	defer writeMu.Unlock()
	_, _ = protocolOut.Write(append(line, '\n'))
}

func main() {
	env := EnvFromProcess()
	client, receiver := integration(env)
	table := operations(client)
	if client == nil {
		for method := range table {
			table[method] = notWired(method)
		}
	}
	capabilities := map[string]any{
		"request_log": false, "alerts": false, "processed_events": false, "resource_status": false, "webhook_url": nil,
	}
	if logger, ok := client.(RequestLogger); ok {
		capabilities["request_log"] = true
		table["request_log"] = func(params) (any, error) { return logger.RequestLog(), nil }
	}
	if alerter, ok := client.(Alerter); ok {
		capabilities["alerts"] = true
		table["alerts"] = func(params) (any, error) { return alerter.Alerts(), nil }
	}
	if receiver != nil && env.TLSCertFile != "" {
		webhookURL, err := serveWebhooks(receiver, env)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bluum-adapter: cannot serve the webhook receiver: %v\n", err)
			os.Exit(1)
		}
		capabilities["webhook_url"] = webhookURL
		if processor, ok := receiver.(EventProcessor); ok {
			capabilities["processed_events"] = true
			table["processed_events"] = func(params) (any, error) { return processor.ProcessedEvents(), nil }
		}
		if reporter, ok := receiver.(StateReporter); ok {
			capabilities["resource_status"] = true
			table["resource_status"] = func(p params) (any, error) {
				if status, known := reporter.ResourceStatus(p.str("resource_id")); known {
					return status, nil
				}
				return nil, nil
			}
		}
	}
	serve(table, "bluum-adapter", capabilities)
}

// serve answers the suite's requests until stdin closes, each in its own goroutine: a slow or hung request never
// holds up those after it.
func serve(table map[string]operation, name string, capabilities map[string]any) {
	input := bufio.NewReaderSize(os.Stdin, 1<<16)
	var inFlight sync.WaitGroup
	for {
		line, err := input.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			inFlight.Add(1)
			go func() {
				defer inFlight.Done()
				handle(line, table, name, capabilities)
			}()
		}
		if err != nil { // stdin closed: the suite is done with us; answer what is in flight (for 1 s at most)
			done := make(chan struct{})
			go func() { inFlight.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(time.Second):
			}
			os.Exit(0)
		}
	}
}

func handle(line []byte, table map[string]operation, name string, capabilities map[string]any) {
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		send(map[string]any{"jsonrpc": "2.0", "id": nil, "error": map[string]any{"code": -32700, "message": "parse error"}})
		return
	}
	id := req.ID
	switch req.Method {
	case "initialize":
		send(map[string]any{"jsonrpc": "2.0", "id": id,
			"result": map[string]any{"protocol": protocolVersion, "name": name, "capabilities": capabilities}})
		return
	case "shutdown":
		send(map[string]any{"jsonrpc": "2.0", "id": id, "result": nil})
		return
	}
	op, found := table[req.Method]
	if !found {
		send(map[string]any{"jsonrpc": "2.0", "id": id,
			"error": map[string]any{"code": -32601, "message": "no such method: " + req.Method}})
		return
	}
	p := params{}
	if len(req.Params) > 0 {
		decoder := json.NewDecoder(bytes.NewReader(req.Params))
		decoder.UseNumber() // numbers in a profile or an order pass through exactly as sent
		if err := decoder.Decode(&p); err != nil {
			send(map[string]any{"jsonrpc": "2.0", "id": id,
				"error": map[string]any{"code": -32602, "message": "params must be an object"}})
			return
		}
	}
	result, err := func() (result any, err error) {
		defer func() { // a panicking operation fails that request, not the program
			if recovered := recover(); recovered != nil {
				err = fmt.Errorf("%s panicked: %v", req.Method, recovered)
			}
		}()
		return op(p)
	}()
	if err != nil {
		send(map[string]any{"jsonrpc": "2.0", "id": id, "error": rpcError(err)})
		return
	}
	send(map[string]any{"jsonrpc": "2.0", "id": id, "result": result})
}

// rpcError is the JSON-RPC error object for a failed operation: what the API answered, or which network failure.
func rpcError(err error) map[string]any {
	data := map[string]any{"status": nil, "code": nil, "param": nil, "request_id": nil, "transport": nil}
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var api *APIError
	if errors.As(err, &api) {
		if api.Status > 0 {
			data["status"] = api.Status
		}
		data["code"], data["param"], data["request_id"] = orNull(api.Code), orNull(api.Param), orNull(api.RequestID)
		data["transport"] = orNull(api.Transport)
	}
	if data["status"] == nil && data["transport"] == nil {
		data["transport"] = orNull(transportName(err))
	}
	return map[string]any{"code": -32000, "message": err.Error(), "data": data}
}

// transportName names a network failure the way the suite reports it, or "" for an error that is not one.
func transportName(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "ETIMEDOUT"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "ECONNRESET"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "ECONNREFUSED"
	case errors.Is(err, syscall.EPIPE):
		return "EPIPE"
	case errors.As(err, &netErr):
		return "network error"
	}
	return ""
}

// serveWebhooks serves handler over HTTPS with the suite's certificate on 127.0.0.1 (a free port); its URL.
func serveWebhooks(handler http.Handler, env Env) (string, error) {
	certificate, err := tls.LoadX509KeyPair(env.TLSCertFile, env.TLSKeyFile)
	if err != nil {
		return "", err
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.Handle(WebhookPath, handler)
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{certificate}, MinVersion: tls.VersionTLS12}}
	go func() { _ = server.ServeTLS(listener, "", "") }()
	return fmt.Sprintf("https://%s%s", listener.Addr().String(), WebhookPath), nil
}
