// Command emuctl sends one request to the emulator's control API, for
// scripts/demo.sh on a machine without curl:
//
//	emuctl METHOD URL [JSON-BODY]
//
// URL must be http:// on a loopback address. It authenticates with
// $MTLS_EMULATOR_TOKEN, prints the answer's body on stdout, and exits 1
// unless the answer is a 2XX.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "emuctl:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	if len(args) < 2 || len(args) > 3 {
		return fmt.Errorf("usage: emuctl METHOD URL [JSON-BODY]")
	}
	var body io.Reader
	if len(args) == 3 {
		body = strings.NewReader(args[2])
	}
	target, err := url.Parse(args[1])
	if err != nil {
		return err
	}
	// The token goes only to an emulator, which listens on loopback.
	if ip := net.ParseIP(target.Hostname()); target.Scheme != "http" || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s is not an http:// URL on a loopback address", args[1])
	}
	req, err := http.NewRequest(args[0], target.String(), body) //nolint:gosec // G704: loopback only, checked above
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+os.Getenv("MTLS_EMULATOR_TOKEN"))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req) //nolint:gosec // G704: loopback only, checked above
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if _, err := stdout.Write(answer); err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d", args[0], args[1], resp.StatusCode)
	}
	return nil
}
