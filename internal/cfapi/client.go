// Package cfapi is the provider's one client for Cloudflare's account mTLS
// certificate API. It has no Terraform framework imports; callers pass and
// receive plain Go values, and a call that fails returns an *APIError.
//
// There is one HTTP layer: the official SDK, cloudflare-go/v7. The SDK
// builds every request (path, parameters, body, credentials), sends it
// through the middleware below, and decodes every answer once, into its own
// envelope and result types. The rest is added through the SDK's extension
// points (option.WithMiddleware, option.WithResponseBodyInto,
// option.WithQuery), each for something the SDK does not do:
//
//   - Judging answers (envelope.go). The SDK ignores the envelope's
//     `success`, turns a value of the wrong type into a zero value, and reads
//     only the first JSON value of a body. The client reads the SDK's field
//     metadata and the body the retrier kept, so that a contradictory answer
//     is an unknown outcome, and only Cloudflare's code 1472 means "not
//     found" (errors.go; ConfirmGone in gone.go for any other 404).
//   - Retries (retry.go). The SDK retries a 409 and a certificate it does not
//     trust, takes a Retry-After of 0 as is, sleeps past the caller's
//     deadline instead of failing at once, and cannot say what happened to
//     each attempt, which the exactly-once upload needs (Attempts,
//     ServerClockOffset). Its retries are off; the retrier is the outermost
//     middleware.
//   - The rate limit (ratelimit.go, serverlimit.go, ratelimit_headers.go).
//     The SDK has no client-side limit and does not read Cloudflare's
//     Ratelimit headers (parsed with httpsfv, RFC 8941), which let processes
//     sharing one token share its quota.
//   - Paging (paging.go). The SDK's page type drops result_info and its
//     auto-pager has no bound; a listing here cannot loop forever and fails
//     when it cannot be shown complete.
//   - The request log and redaction (logging.go, baseurl.go). The SDK logs
//     nothing, and its errors print URLs with their userinfo. Only with the
//     log on is a body decoded a second time, to redact it.
package cfapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/cloudflare/cloudflare-go/v7/certificate_authorities"
	"github.com/cloudflare/cloudflare-go/v7/mtls_certificates"
	"github.com/cloudflare/cloudflare-go/v7/option"
)

// DefaultBaseURL is Cloudflare's public API endpoint.
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// Config holds everything needed to build a Client. Exactly one
// authentication scheme must be set: APIToken, or APIKey with APIEmail.
type Config struct {
	APIToken string
	APIKey   string
	APIEmail string
	BaseURL  string
	// MaxRetries is how many times a request that failed for a transient
	// reason is sent again; 0 sends each request once.
	MaxRetries int
	// RequestsPerSecond refills the client's rate limiter once its burst of
	// RateLimitBurst requests is spent; 0 means DefaultRequestsPerSecond.
	RequestsPerSecond float64
	// AttemptTimeout bounds each HTTP attempt; 0 means
	// DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	UserAgent      string
	// WithoutRequestLog leaves out the request log, for a process whose
	// logs nobody reads: it decodes and redacts every body to log it.
	WithoutRequestLog bool
	// HTTPClient is optional; tests use it to reach an in-process emulator.
	HTTPClient *http.Client
}

// Client talks to the mTLS certificate endpoints. It is safe for concurrent
// use and meant to be shared by every resource of one provider instance.
type Client struct {
	certs        *mtls_certificates.MTLSCertificateService
	associations *mtls_certificates.AssociationService
	hostnames    *certificate_authorities.HostnameAssociationService
}

// Certificate is one mTLS certificate as the API reports it.
type Certificate struct {
	ID           string
	Name         string
	CA           bool
	Certificates string
	Issuer       string
	SerialNumber string
	Signature    string
	ExpiresOn    time.Time
	UploadedOn   time.Time
	Type         string
}

// UploadRequest is the body of an upload.
type UploadRequest struct {
	AccountID    string
	Name         string
	CA           bool
	Certificates string
	PrivateKey   string
}

// Association is one Cloudflare service that uses a certificate.
type Association struct {
	Service string
	Status  string
}

// New builds a Client from cfg.
func New(cfg Config) (*Client, error) {
	if err := validateAuth(cfg); err != nil {
		return nil, err
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if err := ValidateBaseURL(base); err != nil {
		return nil, err
	}
	perSecond, attemptTimeout := cfg.RequestsPerSecond, cfg.AttemptTimeout
	switch {
	case cfg.MaxRetries < 0:
		return nil, fmt.Errorf("max retries must not be negative, got %d", cfg.MaxRetries)
	case perSecond < 0 || math.IsNaN(perSecond) || math.IsInf(perSecond, 0):
		return nil, fmt.Errorf("requests per second must be a positive number, got %g", perSecond)
	case attemptTimeout < 0:
		return nil, fmt.Errorf("the attempt timeout must not be negative, got %s", attemptTimeout)
	}
	if perSecond == 0 {
		perSecond = DefaultRequestsPerSecond
	}
	if attemptTimeout == 0 {
		attemptTimeout = DefaultAttemptTimeout
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	opts := []option.RequestOption{
		option.WithBaseURL(base),
		option.WithHTTPClient(httpClient),
		// Retries are the retrier's, which waits for the rate limiter
		// before every attempt; it comes first so that the logger below it
		// sees each attempt.
		option.WithMaxRetries(0),
		option.WithMiddleware(newRetrier(cfg.MaxRetries, attemptTimeout, newRequestLimiter(perSecond)).middleware),
	}
	if !cfg.WithoutRequestLog {
		opts = append(opts, option.WithMiddleware(newRequestLogger(cfg).middleware))
	}
	if cfg.UserAgent != "" {
		opts = append(opts, option.WithHeader("User-Agent", cfg.UserAgent))
	}
	if cfg.APIToken != "" {
		opts = append(opts, option.WithAPIToken(cfg.APIToken))
	} else {
		opts = append(opts, option.WithAPIKey(cfg.APIKey), option.WithAPIEmail(cfg.APIEmail))
	}
	return &Client{
		certs:        mtls_certificates.NewMTLSCertificateService(opts...),
		associations: mtls_certificates.NewAssociationService(opts...),
		hostnames:    certificate_authorities.NewHostnameAssociationService(opts...),
	}, nil
}

func validateAuth(cfg Config) error {
	token := cfg.APIToken != ""
	key := cfg.APIKey != "" || cfg.APIEmail != ""
	switch {
	case token && key:
		return errors.New("both an API token and an API key/email are set; use exactly one scheme")
	case !token && !key:
		return errors.New("no credentials are set; set an API token, or an API key with its email")
	case key && (cfg.APIKey == "" || cfg.APIEmail == ""):
		return errors.New("an API key needs its account email, and an email needs its API key")
	}
	return nil
}

// Upload creates a certificate. The API has no update: every change is a
// new upload.
func (c *Client) Upload(ctx context.Context, req UploadRequest) (*Certificate, error) {
	// The SDK's field wrapper type lives in an internal package, so its
	// fields are set directly instead of through the root package's F helper
	// (importing the root package would link the whole Cloudflare API).
	var params mtls_certificates.MTLSCertificateNewParams
	params.AccountID.Value, params.AccountID.Present = req.AccountID, true
	params.CA.Value, params.CA.Present = req.CA, true
	params.Certificates.Value, params.Certificates.Present = req.Certificates, true
	if req.Name != "" {
		params.Name.Value, params.Name.Present = req.Name, true
	}
	if req.PrivateKey != "" {
		params.PrivateKey.Value, params.PrivateKey.Present = req.PrivateKey, true
	}
	ctx, call := startCall(ctx)
	var env mtls_certificates.MTLSCertificateNewResponseEnvelope
	_, err := c.certs.New(ctx, params, option.WithResponseBodyInto(&env))
	ans := &call.answer
	if err != nil && ctx.Err() != nil {
		// An answer that arrived whole as the operation ended names what
		// was stored: only the operation's end dropped it.
		if stored, ok := ans.storedCertificate(); ok {
			return stored, nil
		}
	}
	cert, err := ans.certificate("upload", "", envelopeFields{env.JSON.Success, env.JSON.Errors, env.JSON.Result},
		func(path string) (*Certificate, string) { return fromNewResponse(path, &env.Result) }, err)
	if err != nil {
		return nil, uploadOutcomeUnknown(err)
	}
	return cert, nil
}

// Get fetches one certificate. A certificate that does not exist gives an
// error for which IsCertificateNotFound is true.
func (c *Client) Get(ctx context.Context, accountID, id string) (*Certificate, error) {
	var params mtls_certificates.MTLSCertificateGetParams
	params.AccountID.Value, params.AccountID.Present = accountID, true
	ctx, call := startCall(ctx)
	var env mtls_certificates.MTLSCertificateGetResponseEnvelope
	_, err := c.certs.Get(ctx, id, params, option.WithResponseBodyInto(&env))
	return call.answer.certificate("read", "certificate "+id, envelopeFields{env.JSON.Success, env.JSON.Errors, env.JSON.Result},
		func(path string) (*Certificate, string) { return fromSDK(path, &env.Result) }, err)
}

// Delete removes a certificate. It does not treat "not found" as success:
// the caller decides what a missing certificate means.
func (c *Client) Delete(ctx context.Context, accountID, id string) error {
	var params mtls_certificates.MTLSCertificateDeleteParams
	params.AccountID.Value, params.AccountID.Present = accountID, true
	ctx, call := startCall(ctx)
	var env mtls_certificates.MTLSCertificateDeleteResponseEnvelope
	_, err := c.certs.Delete(ctx, id, params, option.WithResponseBodyInto(&env))
	return call.answer.done("delete", "certificate "+id, envelopeFields{env.JSON.Success, env.JSON.Errors, env.JSON.Result}, err)
}

// String keeps %v of a request from printing the private key.
func (r UploadRequest) String() string {
	return fmt.Sprintf("upload(account=%s name=%q ca=%t private_key_set=%t)", r.AccountID, r.Name, r.CA, r.PrivateKey != "")
}

// HostnameAssociations returns the hostnames whose client certificates the
// CA certID verifies in zone zoneID (API Shield). A certificate that does
// not exist gives an error for which IsCertificateNotFound is true.
func (c *Client) HostnameAssociations(ctx context.Context, zoneID, certID string) ([]string, error) {
	if err := checkHostnameCall("read hostname associations", zoneID, certID); err != nil {
		return nil, err
	}
	var params certificate_authorities.HostnameAssociationGetParams
	params.ZoneID.Value, params.ZoneID.Present = zoneID, true
	params.MTLSCertificateID.Value, params.MTLSCertificateID.Present = certID, true
	ctx, call := startCall(ctx)
	var env certificate_authorities.HostnameAssociationGetResponseEnvelope
	_, err := c.hostnames.Get(ctx, params, option.WithResponseBodyInto(&env))
	return call.answer.hostnames("read hostname associations", hostnamesSubject(zoneID, certID),
		envelopeFields{env.JSON.Success, env.JSON.Errors, env.JSON.Result}, env.Result.JSON.Hostnames, env.Result.Hostnames, err)
}

// ReplaceHostnameAssociations makes hostnames the whole list of hostnames
// that the CA certID verifies in zone zoneID, and returns the list
// Cloudflare answers; an empty list removes them all.
func (c *Client) ReplaceHostnameAssociations(ctx context.Context, zoneID, certID string, hostnames []string) ([]string, error) {
	if err := checkHostnameCall("replace hostname associations", zoneID, certID); err != nil {
		return nil, err
	}
	var params certificate_authorities.HostnameAssociationUpdateParams
	params.ZoneID.Value, params.ZoneID.Present = zoneID, true
	body := &params.TLSHostnameAssociation
	// Never null: the API reads a missing list differently from [].
	body.Hostnames.Value, body.Hostnames.Present = append([]string{}, hostnames...), true
	body.MTLSCertificateID.Value, body.MTLSCertificateID.Present = certID, true
	ctx, call := startCall(ctx)
	var env certificate_authorities.HostnameAssociationUpdateResponseEnvelope
	_, err := c.hostnames.Update(ctx, params, option.WithResponseBodyInto(&env))
	return call.answer.hostnames("replace hostname associations", hostnamesSubject(zoneID, certID),
		envelopeFields{env.JSON.Success, env.JSON.Errors, env.JSON.Result}, env.Result.JSON.Hostnames, env.Result.Hostnames, err)
}

// checkHostnameCall refuses an empty zone or certificate id before any
// request: without mtls_certificate_id, the endpoints address Cloudflare's
// managed CA instead, and a replace would change its hostnames.
func checkHostnameCall(operation, zoneID, certID string) error {
	if zoneID == "" || certID == "" {
		return &APIError{Operation: operation, Message: "a zone id and a certificate id are both needed; no request was sent"}
	}
	return nil
}

func hostnamesSubject(zoneID, certID string) string {
	return "certificate " + certID + " in zone " + zoneID
}
