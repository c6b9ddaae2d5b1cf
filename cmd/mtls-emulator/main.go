// Command mtls-emulator serves the emulated Cloudflare mTLS certificate API
// (internal/emulator) on a loopback address, for demos and scripts.
//
//	mtls-emulator [-addr 127.0.0.1:8787] [-token T] [-email E -key K]
//	              [-pem-style normalized|as-uploaded|crlf|rewrapped]
//	              [-paging honored|ignored|inconsistent-totals|shrinking-totals]
//	              [-latency 0s] [-ready-file PATH]
//	              [-rate-limit QUOTA/WINDOW [-rate-limit-block 0s]
//	               [-rate-limit-headers ietf|x-ratelimit|none]]
//
// Once listening it prints one key=value line per fact on stdout:
//
//	base_url=http://127.0.0.1:8787/client/v4
//	control_url=http://127.0.0.1:8787/__emulator
//	api_token=<the accepted token>
//	api_email=<the accepted email, only with -email>
//	account_id=0123456789abcdef0123456789abcdef
//	rate_limit=<QUOTA/WINDOW, only with -rate-limit>
//	rate_limit_block=<the block, only with a -rate-limit-block above 0>
//	rate_limit_headers=<the header style, only with -rate-limit>
//
// -rate-limit enforces Cloudflare's kind of limit, a fixed window of QUOTA
// requests per credential (1200/5m is the real one); a request over it is
// answered 429 with Retry-After, and -rate-limit-block then refuses the
// credential for that long, as Cloudflare does for five minutes. Every
// answer counted against the limit carries the -rate-limit-headers style
// of headers. Without -rate-limit, requests are not limited.
//
// control_url is the control API, which drives the emulator by hand as
// tests drive it in-process. It takes the same credentials as the API
// (Authorization: Bearer <api_token>, or the -email/-key pair) and answers
// 403 without them: loopback keeps other machines out but not other local
// users, and the token is one the user already has (it is printed above and
// is in their Terraform configuration). Bodies and answers are JSON, in the
// API's envelope; bad input is a 400 naming the field. The endpoints:
//
//	PUT    /__emulator/accounts/{account_id}/mtls_certificates/{id}/associations
//	       {"associations":[{"service":"gateway","status":"active"}],"drain_after":"10s"}
//	       mark a certificate as used by these services (404 if it does not
//	       exist), so the API refuses to delete it; with drain_after, the
//	       associations are cleared after that long, as a service letting go.
//	DELETE /__emulator/accounts/{account_id}/mtls_certificates/{id}/associations
//	       drain them now.
//	POST   /__emulator/faults
//	       {"route":"delete","status":503,"retry_after":"2","times":2}
//	       make the next requests to a route fail: route is list, upload,
//	       get, delete or associations; also method, code, message, delay
//	       ("500ms"), drop_connection, commit_then_drop, body, content_type,
//	       commit_then_body (see emulator.Fault).
//	GET    /__emulator/requests
//	       request counts by route, and the rate limit's stats with -rate-limit.
//	POST   /__emulator/reset
//	       forget every certificate, association, fault and count.
//	GET    /__emulator/certificates?account_id={account_id}
//	       an account's certificates, with their associations.
//
// For example:
//
//	curl -X PUT -H "Authorization: Bearer $TOKEN" \
//	  -d '{"associations":[{"service":"gateway","status":"active"}]}' \
//	  http://127.0.0.1:8787/__emulator/accounts/0123456789abcdef0123456789abcdef/mtls_certificates/$ID/associations
//
// Control requests are not counted and not subject to -latency or
// -rate-limit.
//
// The token is -token, else $MTLS_EMULATOR_TOKEN, else a random one, so a
// demo never depends on a real credential. Every valid account id works and
// starts empty; account_id is just a documented one to use. State lives in
// memory only. The command serves until SIGINT or SIGTERM, then finishes
// the requests in flight.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
)

// sampleAccountID is printed for convenience; any 32 lowercase hex digits
// would do.
const sampleAccountID = "0123456789abcdef0123456789abcdef"

// tokenEnv names the variable; it holds no credential itself.
const tokenEnv = "MTLS_EMULATOR_TOKEN" //nolint:gosec // G101: an environment variable name, not a secret

// shutdownGrace bounds how long requests in flight may finish after a signal.
const shutdownGrace = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mtls-emulator:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	flags := flag.NewFlagSet("mtls-emulator", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:8787", "loopback `host:port` to listen on (port 0 picks a free one)")
	token := flags.String("token", "", "API `token` to accept (default $"+tokenEnv+", else a random one)")
	email := flags.String("email", "", "X-Auth-Email to accept, with -key")
	key := flags.String("key", "", "X-Auth-Key to accept, with -email")
	pemStyle := flags.String("pem-style", emulator.PEMNormalized.String(),
		"how responses render certificates: normalized, as-uploaded, crlf or rewrapped")
	paging := flags.String("paging", emulator.PagingHonored.String(),
		"how list and associations answer page and per_page: honored, ignored, inconsistent-totals or shrinking-totals")
	latency := flags.Duration("latency", 0, "delay added to every request")
	readyFile := flags.String("ready-file", "", "once listening, write the base URL to this `file` (removed on exit)")
	rateLimit := flags.String("rate-limit", "",
		"allow each credential QUOTA requests per WINDOW, given as `QUOTA/WINDOW`: 1200/5m is Cloudflare's (default no limit)")
	rateLimitBlock := flags.Duration("rate-limit-block", 0,
		"with -rate-limit, refuse a credential for this long after a request over the limit (default no block)")
	rateLimitHeaders := flags.String("rate-limit-headers", emulator.RateLimitHeadersIETF.String(),
		"with -rate-limit, the rate-limit headers of answers: ietf, x-ratelimit or none")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}

	if err := requireLoopback(*addr); err != nil {
		return err
	}
	style, err := emulator.ParsePEMStyle(*pemStyle)
	if err != nil {
		return fmt.Errorf("-pem-style: %w", err)
	}
	pagingMode, err := emulator.ParsePagingMode(*paging)
	if err != nil {
		return fmt.Errorf("-paging: %w", err)
	}
	limit, err := parseRateLimit(flags, *rateLimit, *rateLimitBlock, *rateLimitHeaders)
	if err != nil {
		return err
	}
	if *token == "" {
		*token = getenv(tokenEnv)
	}
	if *token == "" {
		*token = randomToken()
	}
	opts := emulator.Options{
		APIToken:  *token,
		APIEmail:  *email,
		APIKey:    *key,
		PEMStyle:  style,
		Paging:    pagingMode,
		Latency:   *latency,
		RateLimit: limit,
	}
	if err := opts.Validate(); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// "localhost" passed the check by name; make sure it resolved to a
	// loopback address too.
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		_ = ln.Close()
		return fmt.Errorf("-addr %s: listening on %s, which is not a loopback address", *addr, ip)
	}
	running, err := emulator.ServeListener(ln, opts)
	if err != nil {
		return err
	}

	facts := []string{"base_url=" + running.URL(), "control_url=" + running.ControlURL(), "api_token=" + *token}
	if *email != "" {
		facts = append(facts, "api_email="+*email)
	}
	facts = append(facts, "account_id="+sampleAccountID)
	if limit != nil {
		facts = append(facts, "rate_limit="+formatRateLimit(*limit))
		if limit.Block > 0 {
			facts = append(facts, "rate_limit_block="+limit.Block.String())
		}
		facts = append(facts, "rate_limit_headers="+limit.Headers.String())
	}
	if _, err := fmt.Fprintln(stdout, strings.Join(facts, "\n")); err != nil {
		running.Close()
		return err
	}
	if *readyFile != "" {
		if err := writeFileAtomically(*readyFile, running.URL()); err != nil {
			running.Close()
			return fmt.Errorf("-ready-file: %w", err)
		}
		// A stale file would tell the next script a dead emulator is up.
		defer func() { _ = os.Remove(*readyFile) }()
	}

	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := running.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("requests still in flight after %v were cut: %w", shutdownGrace, err)
	}
	return nil
}

// parseRateLimit builds the limit the -rate-limit flags ask for, nil for
// none. The block and header flags mean nothing without a limit; setting
// them alone is refused rather than ignored, so a script that forgot
// -rate-limit does not believe it runs against one.
func parseRateLimit(flags *flag.FlagSet, spec string, block time.Duration, headers string) (*emulator.RateLimit, error) {
	if spec == "" {
		var alone []string
		flags.Visit(func(f *flag.Flag) {
			if f.Name == "rate-limit-block" || f.Name == "rate-limit-headers" {
				alone = append(alone, "-"+f.Name)
			}
		})
		switch len(alone) {
		case 0:
		case 1:
			return nil, fmt.Errorf("%s needs -rate-limit QUOTA/WINDOW", alone[0])
		default:
			return nil, fmt.Errorf("%s need -rate-limit QUOTA/WINDOW", strings.Join(alone, " and "))
		}
		return nil, nil
	}
	quotaText, windowText, ok := strings.Cut(spec, "/")
	if !ok {
		return nil, fmt.Errorf("-rate-limit %q: want QUOTA/WINDOW, such as 1200/5m", spec)
	}
	quota, err := strconv.Atoi(quotaText)
	if err != nil || quota < 1 {
		return nil, fmt.Errorf("-rate-limit %q: the quota %q is not a whole number of requests of at least 1", spec, quotaText)
	}
	window, err := time.ParseDuration(windowText)
	if err != nil || window <= 0 {
		return nil, fmt.Errorf("-rate-limit %q: the window %q is not a positive duration such as 5m or 30s", spec, windowText)
	}
	if block < 0 {
		return nil, fmt.Errorf("-rate-limit-block %v: must not be negative (0 means no block)", block)
	}
	style, err := emulator.ParseRateLimitHeaders(headers)
	if err != nil {
		return nil, fmt.Errorf("-rate-limit-headers: %w", err)
	}
	return &emulator.RateLimit{Quota: quota, Window: window, Block: block, Headers: style}, nil
}

// formatRateLimit writes a limit the way -rate-limit takes it, so a
// start-up line can be fed back as the flag.
func formatRateLimit(l emulator.RateLimit) string {
	return strconv.Itoa(l.Quota) + "/" + l.Window.String()
}

// requireLoopback refuses addresses other machines could reach: the
// emulator accepts a printed demo token and must never stand in for the
// real API on a network.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: refusing a non-loopback address; use 127.0.0.1, ::1 or localhost", addr)
	}
	return nil
}

func randomToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return hex.EncodeToString(b)
}

// writeFileAtomically makes the file appear complete or not at all, since
// scripts poll for it.
func writeFileAtomically(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return nil
}
