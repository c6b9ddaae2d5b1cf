package main

import (
	"archive/zip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeDist writes a dist folder for version 1.2.3 with a zip per platform
// holding binary(p), and SHA256SUMS of sums(name, data).
func fakeDist(t *testing.T, platforms []string, binary func(p string) string, sum func(name string, data []byte) string) (dist, manifest string) {
	t.Helper()
	dist = t.TempDir()
	manifestData := []byte(`{"version":1,"metadata":{"protocol_versions":["6.0"]}}`)
	manifest = filepath.Join(t.TempDir(), "terraform-registry-manifest.json")
	write(t, manifest, manifestData)
	write(t, filepath.Join(dist, "metadata.json"), []byte(`{"project_name":"terraform-provider-mtls","version":"1.2.3"}`))
	var sums strings.Builder
	for _, p := range platforms {
		name := fmt.Sprintf("terraform-provider-mtls_1.2.3_%s.zip", p)
		path := filepath.Join(dist, name)
		f, err := os.Create(path) //nolint:gosec // G304: a file in the test's temporary folder.
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(f)
		w, err := zw.Create(binary(p))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte("\x7fELF binary"))
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		_ = f.Close()
		data, err := os.ReadFile(path) //nolint:gosec // G304: a file in the test's temporary folder.
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sums, "%s  %s\n", sum(name, data), name)
	}
	fmt.Fprintf(&sums, "%s  terraform-provider-mtls_1.2.3_manifest.json\n", sha256Hex(manifestData))
	write(t, filepath.Join(dist, "terraform-provider-mtls_1.2.3_SHA256SUMS"), []byte(sums.String()))
	return dist, manifest
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func goodBinary(p string) string {
	if strings.HasPrefix(p, "windows_") {
		return "terraform-provider-mtls_v1.2.3.exe"
	}
	return "terraform-provider-mtls_v1.2.3"
}

func goodSum(_ string, data []byte) string { return sha256Hex(data) }

func TestCheck(t *testing.T) {
	platforms := []string{"linux_amd64", "windows_amd64"}
	cases := map[string]struct {
		built  []string
		binary func(string) string
		sum    func(string, []byte) string
		want   string // a problem that must be reported; "" for none
	}{
		"the registry layout": {built: platforms, binary: goodBinary, sum: goodSum},
		"a platform missing":  {built: platforms[:1], binary: goodBinary, sum: goodSum, want: "missing"},
		"an extra platform":   {built: append([]string{"linux_arm"}, platforms...), binary: goodBinary, sum: goodSum, want: "unexpected archive"},
		"a wrong checksum":    {built: platforms, binary: goodBinary, sum: func(string, []byte) string { return strings.Repeat("0", 64) }, want: "with its checksum"},
		"no .exe on Windows":  {built: platforms, binary: func(string) string { return "terraform-provider-mtls_v1.2.3" }, want: "does not hold terraform-provider-mtls_v1.2.3.exe", sum: goodSum},
		"a binary misnamed":   {built: platforms, binary: func(string) string { return "provider" }, sum: goodSum, want: "does not hold"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dist, manifest := fakeDist(t, tc.built, tc.binary, tc.sum)
			problems, listing, err := check(dist, manifest, platforms)
			if err != nil {
				t.Fatal(err)
			}
			joined := strings.Join(problems, "\n")
			switch {
			case tc.want == "" && len(problems) > 0:
				t.Errorf("problems with a good dist: %s", joined)
			case tc.want != "" && !strings.Contains(joined, tc.want):
				t.Errorf("problems %q lack %q", joined, tc.want)
			}
			if tc.want == "" && !strings.Contains(listing, "terraform-provider-mtls_1.2.3_windows_amd64.zip") {
				t.Errorf("listing lacks the Windows zip:\n%s", listing)
			}
		})
	}
	// The manifest's checksum must be the repository manifest's.
	dist, _ := fakeDist(t, platforms, goodBinary, goodSum)
	other := filepath.Join(t.TempDir(), "m.json")
	write(t, other, []byte(`{"version":1,"metadata":{"protocol_versions":["5.0"]}}`))
	problems, _, err := check(dist, other, platforms)
	if err != nil {
		t.Fatal(err)
	}
	if joined := strings.Join(problems, "\n"); !strings.Contains(joined, "protocol 6.0") || !strings.Contains(joined, "the checksum of") {
		t.Errorf("another manifest: problems %q, want protocol and checksum ones", joined)
	}
}
