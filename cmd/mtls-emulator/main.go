// Command mtls-emulator serves the emulated Cloudflare mTLS certificate API
// (internal/emulator) on a loopback address, for demos and scripts.
//
//	mtls-emulator [-addr 127.0.0.1:8787] [-token T] [-email E -key K]
//	              [-pem-style normalized|as-uploaded|crlf|rewrapped]
//	              [-paging honored|ignored|inconsistent-totals|shrinking-totals]
//	              [-latency 0s] [-ready-file PATH]
//
// Once listening it prints one key=value line per fact on stdout:
//
//	base_url=http://127.0.0.1:8787/client/v4
//	api_token=<the accepted token>
//	api_email=<the accepted email, only with -email>
//	account_id=0123456789abcdef0123456789abcdef
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
	if *token == "" {
		*token = getenv(tokenEnv)
	}
	if *token == "" {
		*token = randomToken()
	}
	opts := emulator.Options{
		APIToken: *token,
		APIEmail: *email,
		APIKey:   *key,
		PEMStyle: style,
		Paging:   pagingMode,
		Latency:  *latency,
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

	facts := []string{"base_url=" + running.URL(), "api_token=" + *token}
	if *email != "" {
		facts = append(facts, "api_email="+*email)
	}
	facts = append(facts, "account_id="+sampleAccountID)
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
