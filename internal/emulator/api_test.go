package emulator

import (
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

func TestUpload(t *testing.T) {
	ca := testcerts.NewCA("emulator test CA")
	leaf := ca.Issue("client.example.com")
	stranger := testcerts.NewCA("emulator test CA")

	pubDER, err := x509.MarshalPKIXPublicKey(ca.Key.Public())
	if err != nil {
		t.Fatal(err)
	}
	publicKeyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	corruptCertPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")}))
	encryptedKeyPEM := string(pem.EncodeToMemory(&pem.Block{
		Type:    "EC PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00000000000000000000000000000000"},
		Bytes:   []byte("ciphertext"),
	}))

	tests := []struct {
		name string
		body any
		// code 0 means the upload must succeed.
		status, code int
	}{
		{name: "ca certificate with name", body: uploadBody{CA: true, Certificates: ca.PEM, Name: "root"}, status: 200},
		{name: "leaf with its key", body: uploadBody{Certificates: leaf.PEM, PrivateKey: leaf.KeyPEM}, status: 200},
		{name: "chain", body: uploadBody{Certificates: leaf.PEM + ca.PEM}, status: 200},
		{name: "chain with its leaf key", body: uploadBody{Certificates: leaf.PEM + ca.PEM, PrivateKey: leaf.KeyPEM}, status: 200},
		{name: "blank lines around blocks", body: uploadBody{Certificates: "\n\n" + ca.PEM + "\r\n\r\n" + leaf.PEM + "\n\n"}, status: 200},

		{name: "missing ca", body: map[string]any{"certificates": ca.PEM}, status: 400, code: CodeMissingField},
		{name: "null ca", body: map[string]any{"ca": nil, "certificates": ca.PEM}, status: 400, code: CodeMissingField},
		{name: "missing certificates", body: map[string]any{"ca": true}, status: 400, code: CodeMissingField},
		{name: "ca is a string", body: map[string]any{"ca": "true", "certificates": ca.PEM}, status: 400, code: CodeInvalidRequestBody},
		{name: "certificates is a list", body: map[string]any{"ca": true, "certificates": []string{ca.PEM}}, status: 400, code: CodeInvalidRequestBody},
		{name: "name is a number", body: map[string]any{"ca": true, "certificates": ca.PEM, "name": 7}, status: 400, code: CodeInvalidRequestBody},
		{name: "form encoding", body: "ca=true", status: 400, code: CodeInvalidRequestBody},
		{name: "empty body", body: "", status: 400, code: CodeInvalidRequestBody},
		{name: "JSON array", body: "[]", status: 400, code: CodeInvalidRequestBody},
		{name: "two JSON objects", body: `{"ca":true,"certificates":"x"} {}`, status: 400, code: CodeInvalidRequestBody},

		{name: "public key", body: uploadBody{CA: true, Certificates: publicKeyPEM}, status: 400, code: CodeUnparsableCertificate},
		{name: "garbage", body: uploadBody{CA: true, Certificates: "not a certificate"}, status: 400, code: CodeUnparsableCertificate},
		{name: "empty certificates", body: map[string]any{"ca": true, "certificates": ""}, status: 400, code: CodeUnparsableCertificate},
		{name: "certificate and key in one field", body: uploadBody{Certificates: leaf.PEM + leaf.KeyPEM}, status: 400, code: CodeUnparsableCertificate},
		{name: "CERTIFICATE block that is not DER", body: uploadBody{CA: true, Certificates: corruptCertPEM}, status: 400, code: CodeUnparsableCertificate},
		{name: "text before the block", body: uploadBody{CA: true, Certificates: "subject=CN=x\n" + ca.PEM}, status: 400, code: CodeUnparsableCertificate},
		{name: "truncated block", body: uploadBody{CA: true, Certificates: ca.PEM[:len(ca.PEM)/2]}, status: 400, code: CodeUnparsableCertificate},
		{name: "truncated block before a good one", body: uploadBody{CA: true, Certificates: ca.PEM[:len(ca.PEM)/2] + "\n" + leaf.PEM}, status: 400, code: CodeUnparsableCertificate},

		{name: "key of another certificate", body: uploadBody{Certificates: leaf.PEM, PrivateKey: stranger.KeyPEM}, status: 400, code: CodeKeyMismatch},
		{name: "key of the second certificate", body: uploadBody{Certificates: leaf.PEM + ca.PEM, PrivateKey: ca.KeyPEM}, status: 400, code: CodeKeyMismatch},
		{name: "key is garbage", body: uploadBody{Certificates: leaf.PEM, PrivateKey: "secret"}, status: 400, code: CodeUnparsablePrivateKey},
		{name: "key is empty", body: map[string]any{"ca": false, "certificates": leaf.PEM, "private_key": ""}, status: 400, code: CodeUnparsablePrivateKey},
		{name: "key is a certificate", body: uploadBody{Certificates: leaf.PEM, PrivateKey: leaf.PEM}, status: 400, code: CodeUnparsablePrivateKey},
		{name: "key is encrypted", body: uploadBody{Certificates: leaf.PEM, PrivateKey: encryptedKeyPEM}, status: 400, code: CodeUnparsablePrivateKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmulator(t, testOptions())
			c := newClient(t, emu)
			r := c.do(http.MethodPost, certsPath(testAccount), tc.body)
			if tc.code != 0 {
				wantError(t, r, tc.status, tc.code)
				if n := emu.CertificateCount(testAccount); n != 0 {
					t.Errorf("failed upload stored %d certificates", n)
				}
				return
			}
			wantOK(t, r)
			got := r.certificate(t)
			stored := emu.Certificates(testAccount)
			if len(stored) != 1 || stored[0].ID != got.ID {
				t.Fatalf("stored %+v, want the uploaded %s", stored, got.ID)
			}
		})
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestCertificateObjectFields(t *testing.T) {
	serial, _ := new(big.Int).SetString("235217144297995885180570755458463043449861756659", 10)
	// The subject, serial and dates of the example in Cloudflare's
	// documentation, so the answer can be compared with the documented one.
	ca := testcerts.New(testcerts.Options{
		Subject:   pkix.Name{Country: []string{"US"}, Province: []string{"San Francisco"}, Locality: []string{"California"}, Organization: []string{"Example Inc."}},
		IsCA:      true,
		Serial:    serial,
		NotBefore: time.Date(2022, 11, 22, 16, 59, 47, 0, time.UTC),
		NotAfter:  time.Date(2122, 10, 29, 16, 59, 47, 0, time.UTC),
	})
	opts := testOptions()
	opts.Now = func() time.Time {
		return time.Date(2022, 11, 22, 18, 32, 30, 467938999, time.FixedZone("CET", 3600))
	}
	emu := startEmulator(t, opts)
	c := newClient(t, emu)

	up := c.do(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: ca.PEM, Name: "example_ca_cert"})
	wantOK(t, up)
	uploaded := up.certificate(t)
	want := certJSON{
		ID:           uploaded.ID,
		Name:         "example_ca_cert",
		CA:           true,
		Certificates: strings.TrimSuffix(ca.PEM, "\n"),
		Issuer:       "O=Example Inc.,L=California,ST=San Francisco,C=US",
		SerialNumber: "235217144297995885180570755458463043449861756659",
		Signature:    "ECDSAWithSHA256",
		ExpiresOn:    "2122-10-29T16:59:47Z",
		UploadedOn:   "2022-11-22T17:32:30.467938Z",
		Type:         TypeCustom,
	}
	if !uuidV4.MatchString(uploaded.ID) {
		t.Errorf("id %q is not a UUID v4", uploaded.ID)
	}
	if uploaded.UpdatedAt == nil || *uploaded.UpdatedAt != want.UploadedOn {
		t.Errorf("upload updated_at = %v, want %s", uploaded.UpdatedAt, want.UploadedOn)
	}
	uploaded.UpdatedAt = nil
	if uploaded != want {
		t.Errorf("upload result\n got %+v\nwant %+v", uploaded, want)
	}

	for _, path := range []string{certPath(testAccount, want.ID), certsPath(testAccount)} {
		r := c.do(http.MethodGet, path, nil)
		wantOK(t, r)
		if strings.Contains(string(r.raw), "updated_at") {
			t.Errorf("GET %s carries updated_at: %s", path, r.raw)
		}
	}
	got := c.do(http.MethodGet, certPath(testAccount, want.ID), nil).certificate(t)
	if got != want {
		t.Errorf("get result\n got %+v\nwant %+v", got, want)
	}

	unnamed := c.upload(testAccount, uploadBody{Certificates: ca.Issue("x").PEM})
	if unnamed.Name != "" || unnamed.CA {
		t.Errorf("unnamed leaf: name %q ca %v", unnamed.Name, unnamed.CA)
	}
	if unnamed.ID == want.ID {
		t.Error("two uploads got the same id")
	}
}

func TestKeyFormatsAndSignatures(t *testing.T) {
	rsaKey, edKey, ecKey := testcerts.RSAKey(2048), testcerts.Ed25519Key(), testcerts.ECDSAKey(elliptic.P384())
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	encode := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	ecParams := encode("EC PARAMETERS", []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}) // OID secp384r1

	rsaCert := testcerts.New(testcerts.Options{Subject: pkix.Name{CommonName: "rsa"}, Key: rsaKey})
	edCert := testcerts.New(testcerts.Options{Subject: pkix.Name{CommonName: "ed25519"}, Key: edKey})
	ecCert := testcerts.New(testcerts.Options{Subject: pkix.Name{CommonName: "p384"}, Key: ecKey})

	tests := []struct {
		name, certPEM, keyPEM, signature string
	}{
		{"RSA PKCS #1", rsaCert.PEM, encode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), "SHA256WithRSA"},
		{"RSA PKCS #8", rsaCert.PEM, rsaCert.KeyPEM, "SHA256WithRSA"},
		{"Ed25519 PKCS #8", edCert.PEM, edCert.KeyPEM, "Ed25519"},
		{"EC SEC 1", ecCert.PEM, encode("EC PRIVATE KEY", sec1), "ECDSAWithSHA384"},
		{"EC SEC 1 after EC PARAMETERS", ecCert.PEM, ecParams + encode("EC PRIVATE KEY", sec1), "ECDSAWithSHA384"},
		{"EC PKCS #8 labeled as SEC 1", ecCert.PEM, strings.ReplaceAll(ecCert.KeyPEM, "PRIVATE KEY", "EC PRIVATE KEY"), "ECDSAWithSHA384"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmulator(t, testOptions())
			got := newClient(t, emu).upload(testAccount, uploadBody{Certificates: tc.certPEM, PrivateKey: tc.keyPEM})
			if got.Signature != tc.signature {
				t.Errorf("signature %q, want %q", got.Signature, tc.signature)
			}
			if stored := emu.Certificates(testAccount); stored[0].PrivateKey != tc.keyPEM {
				t.Error("the private key was not stored as sent")
			}
		})
	}
}

func TestDuplicateUpload(t *testing.T) {
	ca := testcerts.NewCA("emulator test CA")
	leaf := ca.Issue("leaf")
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)

	first := c.upload(testAccount, uploadBody{CA: true, Certificates: ca.PEM})

	for name, body := range map[string]uploadBody{
		"same text":                     {CA: true, Certificates: ca.PEM},
		"same certificate, CRLF text":   {CA: true, Certificates: strings.ReplaceAll(ca.PEM, "\n", "\r\n")},
		"same certificate, leaf flag":   {CA: false, Certificates: ca.PEM},
		"same certificate, other name":  {CA: true, Certificates: ca.PEM, Name: "again"},
		"same certificate, no newlines": {CA: true, Certificates: strings.TrimSpace(ca.PEM)},
	} {
		r := c.do(http.MethodPost, certsPath(testAccount), body)
		wantError(t, r, http.StatusBadRequest, CodeDuplicateCertificate)
		if r.env.Errors[0].Message != MessageDuplicateCertificate {
			t.Errorf("%s: message %q", name, r.env.Errors[0].Message)
		}
	}

	// Only the exact sequence counts as a duplicate.
	c.upload(testAccount, uploadBody{Certificates: leaf.PEM + ca.PEM})
	c.upload(testAccount, uploadBody{Certificates: ca.PEM + leaf.PEM})
	c.upload(otherAccount, uploadBody{CA: true, Certificates: ca.PEM})

	wantOK(t, c.do(http.MethodDelete, certPath(testAccount, first.ID), nil))
	c.upload(testAccount, uploadBody{CA: true, Certificates: ca.PEM})
	if n := emu.CertificateCount(testAccount); n != 3 {
		t.Errorf("account holds %d certificates, want 3", n)
	}
}

// TestCALimit: over the quota a CA upload is refused and nothing stored;
// leaves, Access's CAs and other accounts do not count.
func TestCALimit(t *testing.T) {
	for _, tc := range []struct {
		name               string
		status, wantStatus int
	}{
		{"default status", 0, DefaultCALimitStatus},
		{"configured status", http.StatusForbidden, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions()
			opts.CALimit, opts.CALimitStatus = 2, tc.status
			emu := startEmulator(t, opts)
			c := newClient(t, emu)
			if _, err := emu.AddCertificate(testAccount, "", true, testcerts.NewCA("access CA").PEM, TypeAccessManaged); err != nil {
				t.Fatal(err)
			}
			kept := testcerts.NewCA("kept CA")
			first := c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("first CA").PEM})
			c.upload(testAccount, uploadBody{CA: true, Certificates: kept.PEM})
			c.upload(testAccount, uploadBody{Certificates: kept.Issue("leaf").PEM})

			r := c.do(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: testcerts.NewCA("third CA").PEM})
			wantError(t, r, tc.wantStatus, CodeCALimit)
			if r.env.Errors[0].Message != MessageCALimit {
				t.Errorf("message %q, want %q", r.env.Errors[0].Message, MessageCALimit)
			}
			if n := emu.CertificateCount(testAccount); n != 4 {
				t.Errorf("account holds %d certificates after the refusal, want 4", n)
			}
			// A duplicate is still a duplicate, and other accounts have their own quota.
			wantError(t, c.do(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: kept.PEM}),
				http.StatusBadRequest, CodeDuplicateCertificate)
			c.upload(otherAccount, uploadBody{CA: true, Certificates: kept.PEM})

			wantOK(t, c.do(http.MethodDelete, certPath(testAccount, first.ID), nil))
			c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("replacement CA").PEM})
		})
	}
}

func TestConcurrentUploadsOfOneCertificate(t *testing.T) {
	ca := testcerts.NewCA("emulator test CA")
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)

	const workers = 16
	statuses := make(chan int, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			r := c.do(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: ca.PEM})
			statuses <- r.status
		})
	}
	wg.Wait()
	close(statuses)
	ok := 0
	for s := range statuses {
		if s == http.StatusOK {
			ok++
		}
	}
	if ok != 1 || emu.CertificateCount(testAccount) != 1 {
		t.Errorf("%d uploads succeeded and %d were stored, want 1 and 1", ok, emu.CertificateCount(testAccount))
	}
}

func TestUnknownCertificate(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	stored := c.upload(otherAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM})

	for _, id := range []string{"6f1b3b47-7b8e-4d6e-9f3a-2f8a3b9c0d1e", stored.ID /* but in another account */} {
		for _, req := range []struct{ method, path string }{
			{http.MethodGet, certPath(testAccount, id)},
			{http.MethodDelete, certPath(testAccount, id)},
			{http.MethodGet, certPath(testAccount, id) + "/associations"},
		} {
			r := c.do(req.method, req.path, nil)
			wantError(t, r, http.StatusNotFound, CodeCertificateNotFound)
			if r.env.Errors[0].Message != MessageCertificateNotFound {
				t.Errorf("%s %s: message %q", req.method, req.path, r.env.Errors[0].Message)
			}
		}
	}
	if emu.CertificateCount(otherAccount) != 1 {
		t.Error("a request on another account touched the certificate")
	}
}

func TestDeleteReturnsTheObject(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	uploaded := c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM, Name: "gone"})

	r := c.do(http.MethodDelete, certPath(testAccount, uploaded.ID), nil)
	wantOK(t, r)
	deleted := r.certificate(t)
	uploaded.UpdatedAt = nil
	if deleted != uploaded {
		t.Errorf("delete result\n got %+v\nwant %+v", deleted, uploaded)
	}
	wantError(t, c.do(http.MethodGet, certPath(testAccount, uploaded.ID), nil), http.StatusNotFound, CodeCertificateNotFound)
	wantError(t, c.do(http.MethodDelete, certPath(testAccount, uploaded.ID), nil), http.StatusNotFound, CodeCertificateNotFound)
	if n := emu.CertificateCount(testAccount); n != 0 {
		t.Errorf("%d certificates left", n)
	}
}

func TestAuthentication(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		auth func(*http.Request)
		// status 200 means accepted.
		status, code int
	}{
		{"bearer token", testOptions(), bearer(testToken), 200, 0},
		{"bearer scheme in lower case", testOptions(), func(r *http.Request) { r.Header.Set("Authorization", "bearer "+testToken) }, 200, 0},
		{"global API key", testOptions(), globalKey(testEmail, testKey), 200, 0},
		{"token preferred over a wrong key", testOptions(), func(r *http.Request) { bearer(testToken)(r); globalKey(testEmail, "wrong")(r) }, 200, 0},
		{"no credentials", testOptions(), noAuth, 400, CodeInvalidHeaders},
		{"email without key", testOptions(), func(r *http.Request) { r.Header.Set("X-Auth-Email", testEmail) }, 400, CodeInvalidHeaders},
		{"key without email", testOptions(), func(r *http.Request) { r.Header.Set("X-Auth-Key", testKey) }, 400, CodeInvalidHeaders},
		{"wrong token", testOptions(), bearer("nope"), 403, CodeAuthentication},
		{"empty bearer", testOptions(), func(r *http.Request) { r.Header.Set("Authorization", "Bearer") }, 403, CodeAuthentication},
		{"basic scheme", testOptions(), func(r *http.Request) { r.SetBasicAuth("u", testToken) }, 403, CodeAuthentication},
		{"wrong key", testOptions(), globalKey(testEmail, "nope"), 403, CodeAuthentication},
		{"wrong email", testOptions(), globalKey("other@example.com", testKey), 403, CodeAuthentication},
		{"token scheme off", Options{APIEmail: testEmail, APIKey: testKey}, bearer(""), 403, CodeAuthentication},
		{"key scheme off", Options{APIToken: testToken}, globalKey("", ""), 400, CodeInvalidHeaders},
		{"key scheme off, key sent", Options{APIToken: testToken}, globalKey(testEmail, testKey), 403, CodeAuthentication},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmulator(t, tc.opts)
			c := newClient(t, emu)
			c.auth = tc.auth
			r := c.do(http.MethodGet, certsPath(testAccount), nil)
			if tc.code == 0 {
				wantOK(t, r)
				return
			}
			wantError(t, r, tc.status, tc.code)
		})
	}
}

func TestAuthenticationComesFirst(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	ca := testcerts.NewCA("emulator test CA")

	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/zones"},
		{http.MethodPut, certsPath(testAccount)},
		{http.MethodGet, certsPath("NOT-AN-ACCOUNT")},
		{http.MethodPost, certsPath(testAccount)},
	} {
		c.auth = noAuth
		wantError(t, c.do(req.method, req.path, uploadBody{CA: true, Certificates: ca.PEM}), http.StatusBadRequest, CodeInvalidHeaders)
		c.auth = bearer("wrong")
		wantError(t, c.do(req.method, req.path, uploadBody{CA: true, Certificates: ca.PEM}), http.StatusForbidden, CodeAuthentication)
	}
	if n := emu.CertificateCount(testAccount); n != 0 {
		t.Errorf("unauthenticated upload stored %d certificates", n)
	}
}

func TestRouting(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	id := c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID

	t.Run("unknown paths", func(t *testing.T) {
		for _, path := range []string{
			"/zones",
			"/accounts",
			"/accounts/" + testAccount,
			"/accounts/" + testAccount + "/mtls_certificate",
			certsPath(testAccount) + "/",
			certPath(testAccount, id) + "/associations/x",
			certPath(testAccount, id) + "/owners",
			"/accounts//mtls_certificates",
		} {
			r := c.do(http.MethodGet, path, nil)
			wantError(t, r, http.StatusNotFound, CodeNoRouteForURI)
		}
		r, err := c.http.Get(strings.TrimSuffix(emu.URL(), PathPrefix) + "/other" + certsPath(testAccount))
		if err != nil {
			t.Fatal(err)
		}
		_ = r.Body.Close()
		if r.StatusCode != http.StatusBadRequest { // no credentials sent: auth answers first
			t.Errorf("path outside the prefix: HTTP %d", r.StatusCode)
		}
	})

	t.Run("wrong methods", func(t *testing.T) {
		for _, req := range []struct{ method, path, allow string }{
			{http.MethodPut, certsPath(testAccount), "GET, POST"},
			{http.MethodDelete, certsPath(testAccount), "GET, POST"},
			{http.MethodPatch, certPath(testAccount, id), "GET, DELETE"},
			{http.MethodPut, certPath(testAccount, id), "GET, DELETE"},
			{http.MethodPost, certPath(testAccount, id) + "/associations", "GET"},
		} {
			r := c.do(req.method, req.path, nil)
			wantError(t, r, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
			if got := r.header.Get("Allow"); got != req.allow {
				t.Errorf("%s %s: Allow %q, want %q", req.method, req.path, got, req.allow)
			}
		}
	})

	t.Run("invalid account ids", func(t *testing.T) {
		for _, account := range []string{
			strings.ToUpper(testAccount),
			testAccount[:31],
			testAccount + "0",
			"0123456789abcdef0123456789abcdeg",
			"not-an-account",
		} {
			for _, req := range []struct{ method, path string }{
				{http.MethodGet, certsPath(account)},
				{http.MethodPost, certsPath(account)},
				{http.MethodGet, certPath(account, id)},
				{http.MethodDelete, certPath(account, id)},
				{http.MethodGet, certPath(account, id) + "/associations"},
			} {
				r := c.do(req.method, req.path, uploadBody{CA: true, Certificates: "x"})
				wantError(t, r, http.StatusBadRequest, CodeNoRoute)
				if !strings.Contains(r.env.Errors[0].Message, "perhaps your object identifier is invalid") {
					t.Errorf("%s %s: message %q", req.method, req.path, r.env.Errors[0].Message)
				}
			}
		}
	})
}

// seed stores n custom certificates without HTTP and returns their ids in
// upload order.
func seed(t *testing.T, emu *Running, account string, n int, typ string) []string {
	t.Helper()
	ca := testcerts.NewCA("emulator test CA")
	ids := make([]string, n)
	for i := range ids {
		leaf := ca.Issue(fmt.Sprintf("leaf-%d", i))
		c, err := emu.AddCertificate(account, fmt.Sprintf("seed-%d", i), false, leaf.PEM, typ)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = c.ID
	}
	return ids
}

func TestListPaging(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	ids := seed(t, emu, testAccount, 120, TypeCustom)

	t.Run("default page", func(t *testing.T) {
		r := c.do(http.MethodGet, certsPath(testAccount), nil)
		wantOK(t, r)
		if got := len(r.certificates(t)); got != 50 {
			t.Errorf("%d certificates on the default page, want 50", got)
		}
		want := resultInfo{Page: 1, PerPage: 50, Count: 50, TotalCount: 120, TotalPages: 3}
		if r.env.ResultInfo == nil || *r.env.ResultInfo != want {
			t.Errorf("result_info %+v, want %+v", r.env.ResultInfo, want)
		}
	})

	t.Run("every page", func(t *testing.T) {
		var seen []string
		for page, wantCount := range map[int]int{1: 50, 2: 50, 3: 20, 4: 0, 99: 0} {
			r := c.do(http.MethodGet, fmt.Sprintf("%s?page=%d&per_page=50", certsPath(testAccount), page), nil)
			wantOK(t, r)
			want := resultInfo{Page: page, PerPage: 50, Count: wantCount, TotalCount: 120, TotalPages: 3}
			if *r.env.ResultInfo != want {
				t.Errorf("page %d: result_info %+v, want %+v", page, *r.env.ResultInfo, want)
			}
			certs := r.certificates(t)
			if len(certs) != wantCount {
				t.Errorf("page %d: %d certificates, want %d", page, len(certs), wantCount)
			}
			for i, cert := range certs {
				if want := ids[(page-1)*50+i]; cert.ID != want {
					t.Errorf("page %d item %d: id %s, want %s (upload order)", page, i, cert.ID, want)
				}
				seen = append(seen, cert.ID)
			}
		}
		slices.Sort(seen)
		if len(slices.Compact(seen)) != 120 {
			t.Errorf("pages held %d distinct certificates, want 120", len(seen))
		}
	})

	t.Run("one large page", func(t *testing.T) {
		r := c.do(http.MethodGet, certsPath(testAccount)+"?per_page=1000", nil)
		wantOK(t, r)
		if len(r.certificates(t)) != 120 || r.env.ResultInfo.TotalPages != 1 {
			t.Errorf("per_page=1000: %+v", *r.env.ResultInfo)
		}
	})

	t.Run("invalid paging", func(t *testing.T) {
		for _, q := range []string{"page=0", "page=-1", "page=x", "per_page=0", "per_page=1001", "per_page=1.5"} {
			wantError(t, c.do(http.MethodGet, certsPath(testAccount)+"?"+q, nil), http.StatusBadRequest, CodeInvalidQuery)
		}
	})

	t.Run("empty account", func(t *testing.T) {
		r := c.do(http.MethodGet, certsPath(otherAccount), nil)
		wantOK(t, r)
		if string(r.env.Result) != "[]" {
			t.Errorf("empty list result %s, want []", r.env.Result)
		}
		want := resultInfo{Page: 1, PerPage: 50, Count: 0, TotalCount: 0, TotalPages: 0}
		if *r.env.ResultInfo != want {
			t.Errorf("result_info %+v, want %+v", *r.env.ResultInfo, want)
		}
	})
}

func TestListTypeFilter(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	seed(t, emu, testAccount, 2, TypeCustom)
	seed(t, emu, testAccount, 1, TypeGatewayManaged)
	seed(t, emu, testAccount, 3, TypeAccessManaged)

	for query, want := range map[string]map[string]int{
		"":                                      {TypeCustom: 2, TypeGatewayManaged: 1, TypeAccessManaged: 3},
		"type=custom":                           {TypeCustom: 2},
		"type=gateway_managed,access_managed":   {TypeGatewayManaged: 1, TypeAccessManaged: 3},
		"type=custom&type=gateway_managed":      {TypeCustom: 2, TypeGatewayManaged: 1},
		"type=custom,%20access_managed":         {TypeCustom: 2, TypeAccessManaged: 3},
		"type=access_managed&per_page=2&page=2": {TypeAccessManaged: 1},
	} {
		r := c.do(http.MethodGet, certsPath(testAccount)+"?"+query, nil)
		wantOK(t, r)
		got := map[string]int{}
		for _, cert := range r.certificates(t) {
			got[cert.Type]++
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("?%s: types %v, want %v", query, got, want)
		}
	}
	wantError(t, c.do(http.MethodGet, certsPath(testAccount)+"?type=custom,bogus", nil), http.StatusBadRequest, CodeInvalidQuery)
}

func TestAssociationsAndInUseDelete(t *testing.T) {
	for _, tc := range []struct {
		name         string
		status, code int
		wantStatus   int
		wantCode     int
	}{
		{name: "defaults", wantStatus: DefaultInUseStatus, wantCode: DefaultInUseCode},
		{name: "configured", status: http.StatusConflict, code: 1499, wantStatus: http.StatusConflict, wantCode: 1499},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions()
			opts.InUseStatus, opts.InUseCode = tc.status, tc.code
			emu := startEmulator(t, opts)
			c := newClient(t, emu)
			id := c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
			assocPath := certPath(testAccount, id) + "/associations"

			r := c.do(http.MethodGet, assocPath, nil)
			wantOK(t, r)
			if string(r.env.Result) != "[]" || *r.env.ResultInfo != (resultInfo{Page: 1, PerPage: 20}) {
				t.Errorf("no associations: %s", r.raw)
			}

			var assoc []Association
			for i := range 25 {
				assoc = append(assoc, Association{Service: fmt.Sprintf("service-%d", i), Status: "pending_deployment"})
			}
			assoc[0] = Association{Service: "gateway", Status: "active"}
			emu.SetAssociations(testAccount, id, assoc)

			r = c.do(http.MethodGet, assocPath, nil)
			wantOK(t, r)
			if !strings.Contains(string(r.raw), `{"service":"gateway","status":"active"}`) {
				t.Errorf("association not serialized as {service,status}: %s", r.raw)
			}
			if want := (resultInfo{Page: 1, PerPage: 20, Count: 20, TotalCount: 25, TotalPages: 2}); *r.env.ResultInfo != want {
				t.Errorf("result_info %+v, want %+v", *r.env.ResultInfo, want)
			}
			r = c.do(http.MethodGet, assocPath+"?page=2", nil)
			if r.env.ResultInfo.Count != 5 {
				t.Errorf("page 2 holds %d associations, want 5", r.env.ResultInfo.Count)
			}

			r = c.do(http.MethodDelete, certPath(testAccount, id), nil)
			wantError(t, r, tc.wantStatus, tc.wantCode)
			if r.env.Errors[0].Message != MessageInUse {
				t.Errorf("in-use message %q", r.env.Errors[0].Message)
			}
			if emu.CertificateCount(testAccount) != 1 {
				t.Fatal("an in-use certificate was deleted")
			}

			emu.ClearAssociations()
			wantOK(t, c.do(http.MethodDelete, certPath(testAccount, id), nil))
		})
	}

	t.Run("empty list clears", func(t *testing.T) {
		emu := startEmulator(t, testOptions())
		c := newClient(t, emu)
		id := c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
		emu.SetAssociations(testAccount, id, []Association{{Service: "gateway", Status: "active"}})
		emu.SetAssociations(testAccount, id, nil)
		wantOK(t, c.do(http.MethodDelete, certPath(testAccount, id), nil))
	})
}

func TestAccountsAreIsolated(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	ca := testcerts.NewCA("emulator test CA")
	a := c.upload(testAccount, uploadBody{CA: true, Certificates: ca.PEM})
	b := c.upload(otherAccount, uploadBody{CA: true, Certificates: ca.PEM})

	if a.ID == b.ID {
		t.Error("two accounts share a certificate id")
	}
	emu.SetAssociations(otherAccount, b.ID, []Association{{Service: "gateway", Status: "active"}})
	wantOK(t, c.do(http.MethodDelete, certPath(testAccount, a.ID), nil))
	if emu.CertificateCount(otherAccount) != 1 || emu.CertificateCount(testAccount) != 0 {
		t.Error("deleting in one account affected the other")
	}
}

func TestAllowDuplicates(t *testing.T) {
	ca := testcerts.NewCA("emulator test CA")
	opts := testOptions()
	opts.AllowDuplicates = true
	emu := startEmulator(t, opts)
	c := newClient(t, emu)
	first := c.upload(testAccount, uploadBody{CA: true, Certificates: ca.PEM, Name: "twin"})
	second := c.upload(testAccount, uploadBody{CA: true, Certificates: ca.PEM, Name: "twin"})
	if first.ID == second.ID {
		t.Fatalf("both uploads got id %s", first.ID)
	}
	if n := emu.CertificateCount(testAccount); n != 2 {
		t.Errorf("account holds %d certificates, want 2", n)
	}
}

// TestUnnamedStyles: a certificate without a name is answered with "", null
// or no name field, as Options.Unnamed says, on every route that returns it.
func TestUnnamedStyles(t *testing.T) {
	for style, want := range map[UnnamedStyle]string{
		UnnamedEmpty:   `""`,
		UnnamedNull:    "null",
		UnnamedOmitted: "",
	} {
		opts := testOptions()
		opts.Unnamed = style
		emu := startEmulator(t, opts)
		c := newClient(t, emu)
		id := c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
		named := c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM, Name: "named"}).ID
		for certID, wantName := range map[string]string{id: want, named: `"named"`} {
			r := c.do(http.MethodGet, certPath(testAccount, certID), nil)
			wantOK(t, r)
			var result map[string]json.RawMessage
			if err := json.Unmarshal(r.env.Result, &result); err != nil {
				t.Fatal(err)
			}
			got, present := result["name"]
			if wantName == "" && present || wantName != "" && string(got) != wantName {
				t.Errorf("style %d: name is %q (present %t), want %q", style, got, present, wantName)
			}
		}
	}
	if err := (Options{APIToken: "t", Unnamed: 7}).Validate(); err == nil {
		t.Error("an unknown Unnamed style was accepted")
	}
}
