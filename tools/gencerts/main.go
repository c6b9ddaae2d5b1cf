// Command gencerts writes a fresh set of throwaway certificates for the demo:
// two self-signed CAs and a leaf signed by the first, with the leaf's key.
// Keys are made on every run and never committed.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gencerts DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gencerts:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil { //nolint:gosec // G703: the output folder is the caller's argument by design.
		return err
	}
	root := testcerts.NewCA("Demo Root CA")
	leaf := root.Issue("worker.demo.example")
	files := map[string]string{
		"root-ca.pem":   root.PEM,
		"second-ca.pem": testcerts.NewCA("Demo Second CA").PEM,
		"next-ca.pem":   testcerts.NewCA("Demo Next CA").PEM,
		"leaf.pem":      leaf.PEM,
		"leaf-key.pem":  leaf.KeyPEM,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil { //nolint:gosec // G703: see MkdirAll above.
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "wrote demo certificates to %s\n", dir)
	return nil
}
