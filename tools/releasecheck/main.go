// Command releasecheck checks a goreleaser dist/ folder against the layout
// the Terraform and OpenTofu registries read, and prints each artifact
// with its size (make release-snapshot runs it after the snapshot):
//
//	terraform-provider-mtls_<version>_<os>_<arch>.zip, one per platform,
//	  holding terraform-provider-mtls_v<version> (.exe on Windows)
//	terraform-provider-mtls_<version>_SHA256SUMS, the checksum of every
//	  zip and of the manifest
//	terraform-provider-mtls_<version>_manifest.json, uploaded from
//	  terraform-registry-manifest.json (protocol 6.0)
//
// Usage: releasecheck -dist dist -manifest terraform-registry-manifest.json OS_ARCH...
package main

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

const project = "terraform-provider-mtls"

func main() {
	dist := flag.String("dist", "dist", "goreleaser's output `folder`")
	manifest := flag.String("manifest", "terraform-registry-manifest.json", "the registry manifest `file`")
	flag.Parse()
	problems, listing, err := check(*dist, *manifest, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "releasecheck:", err)
		os.Exit(1)
	}
	fmt.Print(listing)
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "releasecheck:", p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

// check returns what is wrong with dist, and the artifact listing.
func check(dist, manifestPath string, platforms []string) ([]string, string, error) {
	if len(platforms) == 0 {
		return nil, "", errors.New("name the platforms (OS_ARCH) the release must have")
	}
	var meta struct {
		Version string `json:"version"`
	}
	raw, err := os.ReadFile(filepath.Join(dist, "metadata.json")) //nolint:gosec // G304: goreleaser's output.
	if err != nil {
		return nil, "", err
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, "", fmt.Errorf("%s/metadata.json: %w", dist, err)
	}
	if meta.Version == "" {
		return nil, "", fmt.Errorf("%s/metadata.json has no version", dist)
	}
	v := meta.Version
	var problems []string
	var listing strings.Builder

	sumsName := fmt.Sprintf("%s_%s_SHA256SUMS", project, v)
	sums, err := readSums(filepath.Join(dist, sumsName))
	if err != nil {
		return nil, "", err
	}
	manifestName := fmt.Sprintf("%s_%s_manifest.json", project, v)
	manifest, err := os.ReadFile(manifestPath) //nolint:gosec // G304: the repository's own manifest.
	if err != nil {
		return nil, "", err
	}
	if !strings.Contains(string(manifest), `"6.0"`) {
		problems = append(problems, manifestPath+" does not name protocol 6.0")
	}
	if got, want := sums[manifestName], sha256Hex(manifest); got != want {
		problems = append(problems, fmt.Sprintf("%s lists %s as %q, want %s (the checksum of %s)", sumsName, manifestName, got, want, manifestPath))
	}

	zips, err := filepath.Glob(filepath.Join(dist, "*.zip"))
	if err != nil {
		return nil, "", err
	}
	for _, z := range zips {
		p := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(z), project+"_"+v+"_"), ".zip")
		if !slices.Contains(platforms, p) {
			problems = append(problems, fmt.Sprintf("unexpected archive %s (a platform not named here)", z))
		}
	}
	for _, p := range platforms {
		name := fmt.Sprintf("%s_%s_%s.zip", project, v, p)
		path := filepath.Join(dist, name)
		data, err := os.ReadFile(path) //nolint:gosec // G304: goreleaser's output.
		if err != nil {
			problems = append(problems, "missing "+path)
			continue
		}
		binary := project + "_v" + v
		if strings.HasPrefix(p, "windows_") {
			binary += ".exe"
		}
		if err := holds(path, binary); err != nil {
			problems = append(problems, err.Error())
		}
		if sums[name] != sha256Hex(data) {
			problems = append(problems, fmt.Sprintf("%s does not list %s with its checksum", sumsName, name))
		}
		fmt.Fprintf(&listing, "  %-62s %9d bytes\n", name, len(data))
	}
	if want := len(platforms) + 1; len(sums) != want {
		problems = append(problems, fmt.Sprintf("%s lists %d files, want %d (the zips and the manifest)", sumsName, len(sums), want))
	}
	if info, err := os.Stat(filepath.Join(dist, sumsName)); err == nil {
		fmt.Fprintf(&listing, "  %-62s %9d bytes\n", sumsName, info.Size())
	}
	fmt.Fprintf(&listing, "  %-62s %9d bytes (%s)\n", manifestName, len(manifest), manifestPath)
	return problems, fmt.Sprintf("release %s, %d platforms:\n%s", v, len(platforms), listing.String()), nil
}

// readSums reads a SHA256SUMS file: "<hex>  <name>" per line.
func readSums(path string) (map[string]string, error) {
	f, err := os.Open(path) //nolint:gosec // G304: goreleaser's output.
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			return nil, fmt.Errorf("%s: line %q is not \"<sha256>  <name>\"", path, sc.Text())
		}
		sums[name] = sum
	}
	return sums, sc.Err()
}

// holds checks that the zip at path has a file named binary.
func holds(path, binary string) error {
	r, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer func() { _ = r.Close() }()
	var names []string
	for _, f := range r.File {
		if f.Name == binary {
			rc, err := f.Open()
			if err != nil {
				return fmt.Errorf("%s: %s: %w", path, binary, err)
			}
			// Read at most a little past the size a provider binary has.
			n, err := io.Copy(io.Discard, io.LimitReader(rc, 1<<30))
			_ = rc.Close()
			if err != nil {
				return fmt.Errorf("%s: reading %s: %w", path, binary, err)
			}
			if n == 0 {
				return fmt.Errorf("%s: %s is empty", path, binary)
			}
			return nil
		}
		names = append(names, f.Name)
	}
	return fmt.Errorf("%s does not hold %s (it holds %s)", path, binary, strings.Join(names, ", "))
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
