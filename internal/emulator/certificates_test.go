package emulator

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

func TestPEMStyles(t *testing.T) {
	ca := testcerts.NewCA("emulator test CA")
	leaf := ca.Issue("leaf")
	trimmed := func(s string) string { return strings.TrimSuffix(s, "\n") }
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

	tests := []struct {
		name     string
		style    PEMStyle
		uploaded string
		want     string
	}{
		{"normalized drops the trailing newline", PEMNormalized, ca.PEM, trimmed(ca.PEM)},
		{"normalized joins a bundle with one newline", PEMNormalized, leaf.PEM + "\n" + ca.PEM, trimmed(leaf.PEM) + "\n" + trimmed(ca.PEM)},
		{"normalized rewrites CRLF", PEMNormalized, crlf(leaf.PEM + ca.PEM), trimmed(leaf.PEM) + "\n" + trimmed(ca.PEM)},
		{"as uploaded keeps every byte", PEMAsUploaded, "\n" + crlf(leaf.PEM) + "\n\n" + ca.PEM, "\n" + crlf(leaf.PEM) + "\n\n" + ca.PEM},
		{"crlf with a blank line between blocks", PEMCRLF, leaf.PEM + ca.PEM, crlf(leaf.PEM) + "\r\n" + crlf(ca.PEM)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions()
			opts.PEMStyle = tc.style
			emu := startEmulator(t, opts)
			c := newClient(t, emu)
			up := c.upload(testAccount, uploadBody{CA: true, Certificates: tc.uploaded})
			if up.Certificates != tc.want {
				t.Errorf("certificates\n got %q\nwant %q", up.Certificates, tc.want)
			}
			got := c.do(http.MethodGet, certPath(testAccount, up.ID), nil).certificate(t)
			if got.Certificates != tc.want {
				t.Errorf("GET certificates differ from the upload response: %q", got.Certificates)
			}
			stored := emu.Certificates(testAccount)[0]
			if stored.UploadedPEM != tc.uploaded || stored.Certificates != tc.want {
				t.Errorf("stored texts: uploaded %q, served %q", stored.UploadedPEM, stored.Certificates)
			}
			if !sameDER(t, got.Certificates, stored.DER) {
				t.Error("the returned text holds other certificates than were uploaded")
			}
		})
	}

	// Clients are tested against the default precisely because it differs
	// from what people usually upload.
	for _, input := range []string{ca.PEM, leaf.PEM + ca.PEM, strings.Join([]string{leaf.PEM, ca.PEM}, "\n")} {
		if renderPEM([][]byte{ca.X509.Raw}, input, PEMNormalized) == input {
			t.Errorf("default style returns %q unchanged", input)
		}
	}
}

// TestPEMRewrapped checks the layout line by line rather than against a
// second rendering, so a bug in encodeCertificate cannot hide in the
// expected value too.
func TestPEMRewrapped(t *testing.T) {
	const width = 76
	ca := testcerts.NewCA("emulator test CA")
	leaf := ca.Issue("leaf")
	opts := testOptions()
	opts.PEMStyle = PEMRewrapped
	emu := startEmulator(t, opts)
	c := newClient(t, emu)

	uploaded := strings.ReplaceAll(leaf.PEM+"\n"+ca.PEM, "\n", "\r\n")
	up := c.upload(testAccount, uploadBody{Certificates: uploaded})
	got := c.do(http.MethodGet, certPath(testAccount, up.ID), nil).certificate(t).Certificates
	if got != up.Certificates {
		t.Errorf("GET certificates differ from the upload response:\n got %q\nwant %q", got, up.Certificates)
	}
	if !sameDER(t, got, [][]byte{leaf.X509.Raw, ca.X509.Raw}) {
		t.Fatalf("the returned text holds other certificates than were uploaded: %q", got)
	}
	if strings.Contains(got, "\r") || strings.HasSuffix(got, "\n") {
		t.Errorf("want \"\\n\" endings and no trailing newline, got %q", got)
	}

	blocks := 0
	var body []string
	for i, line := range strings.Split(got, "\n") {
		switch line {
		case "-----BEGIN CERTIFICATE-----":
			if len(body) != 0 {
				t.Fatalf("line %d: BEGIN inside a block", i+1)
			}
			blocks++
			body = []string{}
		case "-----END CERTIFICATE-----":
			if len(body) < 2 {
				t.Fatalf("line %d: block %d has %d body lines, too few to show the width", i+1, blocks, len(body))
			}
			for j, b := range body[:len(body)-1] {
				if len(b) != width {
					t.Errorf("block %d, body line %d is %d columns, want %d", blocks, j+1, len(b), width)
				}
			}
			if last := body[len(body)-1]; last == "" || len(last) > width {
				t.Errorf("block %d, last body line is %d columns", blocks, len(last))
			}
			body = nil
		case "":
			t.Errorf("line %d is blank; blocks must be joined by a single newline", i+1)
		default:
			if body == nil {
				t.Fatalf("line %d %q is outside a block", i+1, line)
			}
			body = append(body, line)
		}
	}
	if blocks != 2 || body != nil {
		t.Errorf("found %d complete blocks, want 2", blocks)
	}
	if stored := emu.Certificates(testAccount)[0]; stored.UploadedPEM != uploaded || stored.Certificates != got {
		t.Errorf("stored texts: uploaded %q, served %q", stored.UploadedPEM, stored.Certificates)
	}
}

func sameDER(t *testing.T, text string, want [][]byte) bool {
	t.Helper()
	var got [][]byte
	rest := []byte(text)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		got = append(got, block.Bytes)
	}
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			return false
		}
	}
	return true
}

func TestParsePEMStyle(t *testing.T) {
	for _, style := range []PEMStyle{PEMNormalized, PEMAsUploaded, PEMCRLF, PEMRewrapped} {
		got, err := ParsePEMStyle(style.String())
		if err != nil || got != style {
			t.Errorf("ParsePEMStyle(%q) = %v, %v", style.String(), got, err)
		}
	}
	if _, err := ParsePEMStyle("unix"); err == nil || !strings.Contains(err.Error(), "normalized, as-uploaded, crlf, rewrapped") {
		t.Errorf("unknown style error %v should list the accepted names", err)
	}
	// New styles go at the end, so the numbers of existing ones never change.
	for style, want := range map[PEMStyle]int{PEMNormalized: 0, PEMAsUploaded: 1, PEMCRLF: 2, PEMRewrapped: 3} {
		if int(style) != want {
			t.Errorf("%v = %d, want %d", style, int(style), want)
		}
	}
	if got := PEMStyle(9).String(); got != "PEMStyle(9)" {
		t.Errorf("String of an unknown style = %q", got)
	}
}

func TestSignatureName(t *testing.T) {
	for alg, want := range map[x509.SignatureAlgorithm]string{
		x509.SHA256WithRSA:    "SHA256WithRSA",
		x509.SHA384WithRSA:    "SHA384WithRSA",
		x509.SHA512WithRSA:    "SHA512WithRSA",
		x509.ECDSAWithSHA256:  "ECDSAWithSHA256",
		x509.ECDSAWithSHA384:  "ECDSAWithSHA384",
		x509.ECDSAWithSHA512:  "ECDSAWithSHA512",
		x509.PureEd25519:      "Ed25519",
		x509.SHA256WithRSAPSS: "SHA256WithRSAPSS",
		x509.SHA384WithRSAPSS: "SHA384-RSAPSS",
		x509.SHA1WithRSA:      "SHA1-RSA",
	} {
		if got := signatureName(alg); got != want {
			t.Errorf("signatureName(%v) = %q, want %q", alg, got, want)
		}
	}
}

func TestPrivateKeyIsNeverReturned(t *testing.T) {
	ca := testcerts.NewCA("emulator test CA")
	leaf := ca.Issue("worker.example.com")
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)

	// Any line of the key's base64 body would show a leak, whatever the
	// field it leaked into.
	keyLines := strings.Split(strings.TrimSpace(leaf.KeyPEM), "\n")
	secret := keyLines[1]

	var bodies []apiResponse
	up := c.do(http.MethodPost, certsPath(testAccount), uploadBody{Certificates: leaf.PEM, PrivateKey: leaf.KeyPEM, Name: "worker"})
	wantOK(t, up)
	id := up.certificate(t).ID
	bodies = append(bodies, up)
	if stored := emu.Certificates(testAccount); stored[0].PrivateKey != leaf.KeyPEM {
		t.Fatal("the private key was not stored")
	}
	bodies = append(bodies,
		c.do(http.MethodPost, certsPath(testAccount), uploadBody{Certificates: leaf.PEM, PrivateKey: leaf.KeyPEM}), // duplicate
		c.do(http.MethodPost, certsPath(testAccount), uploadBody{Certificates: ca.PEM, PrivateKey: leaf.KeyPEM}),   // mismatch
		c.do(http.MethodGet, certsPath(testAccount), nil),
		c.do(http.MethodGet, certPath(testAccount, id), nil),
		c.do(http.MethodGet, certPath(testAccount, id)+"/associations", nil),
		c.do(http.MethodDelete, certPath(testAccount, id), nil),
	)
	for i, r := range bodies {
		raw := string(r.raw)
		if strings.Contains(raw, "private_key") || strings.Contains(raw, secret) || strings.Contains(raw, "PRIVATE KEY") {
			t.Errorf("response %d leaks the private key: %s", i, raw)
		}
	}
}

func TestAddCertificate(t *testing.T) {
	emu := New(testOptions())
	ca := testcerts.NewCA("emulator test CA")

	gw, err := emu.AddCertificate(testAccount, "Gateway CA", true, ca.PEM, TypeGatewayManaged)
	if err != nil {
		t.Fatal(err)
	}
	if gw.Type != TypeGatewayManaged || gw.Name != "Gateway CA" || !gw.CA || len(gw.DER) != 1 || gw.ID == "" {
		t.Errorf("seeded certificate %+v", gw)
	}
	custom, err := emu.AddCertificate(testAccount, "", false, ca.Issue("x").PEM, "")
	if err != nil || custom.Type != TypeCustom {
		t.Errorf("empty type: %+v, %v", custom, err)
	}

	for name, tc := range map[string]struct {
		account, pem, typ string
		code              int
	}{
		"duplicate":       {testAccount, ca.PEM, TypeCustom, CodeDuplicateCertificate},
		"not PEM":         {testAccount, "x", TypeCustom, CodeUnparsableCertificate},
		"unknown type":    {testAccount, testcerts.NewCA("emulator test CA").PEM, "managed", CodeInvalidRequestBody},
		"invalid account": {"acct", testcerts.NewCA("emulator test CA").PEM, TypeCustom, CodeNoRoute},
	} {
		_, err := emu.AddCertificate(tc.account, "", true, tc.pem, tc.typ)
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.Code != tc.code {
			t.Errorf("%s: error %v, want code %d", name, err, tc.code)
		}
	}

	// A snapshot is a copy: changing it does not change the emulator.
	snap := emu.Certificates(testAccount)
	snap[0].DER[0][0] ^= 0xff
	snap[0].Name = "changed"
	again := emu.Certificates(testAccount)
	if again[0].Name != "Gateway CA" || !bytes.Equal(again[0].DER[0], ca.X509.Raw) {
		t.Error("Certificates returned live state")
	}
}

func TestOptionsValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		opts Options
		ok   bool
	}{
		"token":                 {Options{APIToken: "t"}, true},
		"global key":            {Options{APIEmail: "e", APIKey: "k"}, true},
		"everything":            {Options{APIToken: "t", APIEmail: "e", APIKey: "k", PEMStyle: PEMCRLF, InUseStatus: 409, InUseCode: 1234, Latency: time.Millisecond}, true},
		"no credentials":        {Options{}, false},
		"email without key":     {Options{APIToken: "t", APIEmail: "e"}, false},
		"key without email":     {Options{APIKey: "k"}, false},
		"unknown PEM style":     {Options{APIToken: "t", PEMStyle: 7}, false},
		"rewrapped PEM style":   {Options{APIToken: "t", PEMStyle: PEMRewrapped}, true},
		"in-use status not 4XX": {Options{APIToken: "t", InUseStatus: 500}, false},
		"in-use code too small": {Options{APIToken: "t", InUseCode: 999}, false},
		"negative latency":      {Options{APIToken: "t", Latency: -1}, false},
		"CA limit":              {Options{APIToken: "t", CALimit: 5, CALimitStatus: 409}, true},
		"negative CA limit":     {Options{APIToken: "t", CALimit: -1}, false},
		"CA limit status 5XX":   {Options{APIToken: "t", CALimitStatus: 503}, false},
		"hostname options":      {Options{APIToken: "t", HostnameService: "mtls", HostnameLag: time.Minute}, true},
		"negative hostname lag": {Options{APIToken: "t", HostnameLag: -1}, false},
		"service with spaces":   {Options{APIToken: "t", HostnameService: "api shield "}, false},
	} {
		if err := tc.opts.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v", name, err)
		}
	}

	defer func() {
		if recover() == nil {
			t.Error("New accepted options without credentials")
		}
	}()
	New(Options{})
}

func TestStartRejectsInvalidOptions(t *testing.T) {
	if r, err := Start(Options{}); err == nil {
		r.Close()
		t.Fatal("Start accepted options without credentials")
	}
}
