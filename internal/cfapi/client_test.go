package cfapi_test

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

const account = "0123456789abcdef0123456789abcdef"

// selfSigned is a CA certificate whose serial number and issuer the tests
// check in the API's answer.
func selfSigned() string {
	return testcerts.New(testcerts.Options{Subject: pkix.Name{CommonName: "client test"}, IsCA: true, Serial: big.NewInt(42)}).PEM
}

func startEmulator(t *testing.T) *emulator.Running {
	t.Helper()
	em, err := emulator.Start(emulator.Options{APIToken: "tok", APIEmail: "me@example.com", APIKey: "key"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Close)
	return em
}

// TestClientAgainstEmulator checks the client's view of every endpoint and
// its error mapping against the emulator, not against mocks of itself.
func TestClientAgainstEmulator(t *testing.T) {
	em := startEmulator(t)
	ctx := context.Background()
	for name, cfg := range map[string]cfapi.Config{
		"token": {APIToken: "tok", BaseURL: em.URL()},
		"key":   {APIKey: "key", APIEmail: "me@example.com", BaseURL: em.URL()},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := cfapi.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			pemText := selfSigned()
			up, err := c.Upload(ctx, cfapi.UploadRequest{AccountID: account, Name: "n", CA: true, Certificates: pemText})
			if err != nil {
				t.Fatalf("upload: %v", err)
			}
			if up.ID == "" || up.SerialNumber != "42" || up.Type != "custom" || up.Issuer != "CN=client test" || up.UploadedOn.IsZero() {
				t.Fatalf("unexpected upload result %+v", up)
			}
			got, err := c.Get(ctx, account, up.ID)
			if err != nil || got.ID != up.ID || got.Name != "n" || !got.CA {
				t.Fatalf("get = %+v, %v", got, err)
			}
			_, err = c.Upload(ctx, cfapi.UploadRequest{AccountID: account, CA: true, Certificates: pemText})
			var apiErr *cfapi.APIError
			if !errors.As(err, &apiErr) || len(apiErr.Errors) == 0 || apiErr.Errors[0].Code != 1471 {
				t.Fatalf("duplicate upload error = %v, want code 1471", err)
			}
			em.SetAssociations(account, up.ID, []emulator.Association{{Service: "gateway", Status: "active"}})
			assoc, err := c.AssociationsAll(ctx, account, up.ID)
			if err != nil || len(assoc) != 1 || assoc[0] != (cfapi.Association{Service: "gateway", Status: "active"}) {
				t.Fatalf("associations = %+v, %v", assoc, err)
			}
			if err := c.Delete(ctx, account, up.ID); !cfapi.IsClientError(err) || cfapi.IsCertificateNotFound(err) {
				t.Fatalf("delete in use = %v, want a non-404 client error", err)
			}
			em.SetAssociations(account, up.ID, nil)
			if err := c.Delete(ctx, account, up.ID); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if _, err := c.Get(ctx, account, up.ID); !cfapi.IsCertificateNotFound(err) {
				t.Fatalf("get after delete = %v, want not found", err)
			}
			if err := c.Delete(ctx, account, up.ID); !cfapi.IsCertificateNotFound(err) {
				t.Fatalf("second delete = %v, want not found", err)
			}
		})
	}
}

func TestClientAuthErrors(t *testing.T) {
	em := startEmulator(t)
	c, err := cfapi.New(cfapi.Config{APIToken: "wrong", BaseURL: em.URL()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), account, "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10")
	if !cfapi.IsAuthError(err) {
		t.Fatalf("error = %v, want an authentication error", err)
	}
}

func TestClientTransportErrorIsNotAnAPIAnswer(t *testing.T) {
	em := startEmulator(t)
	em.InjectFault(emulator.Fault{Route: emulator.RouteGet, DropConnection: true, Times: 5})
	c, err := cfapi.New(cfapi.Config{APIToken: "tok", BaseURL: em.URL(), MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), account, "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10")
	var apiErr *cfapi.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 0 || cfapi.IsCertificateNotFound(err) || cfapi.IsClientError(err) {
		t.Fatalf("error = %#v, want a transport error with no status", err)
	}
}

// TestAPIErrorHidesUserinfo: the request an error names shows the base
// URL's host, not the user name or password written into it.
func TestAPIErrorHidesUserinfo(t *testing.T) {
	em := startEmulator(t)
	const user, password = "proxyuser51d0", "pw0be7c3"
	base := strings.Replace(em.URL(), "http://", "http://"+user+":"+password+"@", 1)
	c, err := cfapi.New(cfapi.Config{APIToken: "wrong", BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), account, "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10")
	var apiErr *cfapi.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode == 0 {
		t.Fatalf("error = %v, want the emulator's refusal", err)
	}
	host := strings.TrimPrefix(em.URL(), "http://")
	if shown := apiErr.Request + " " + err.Error(); strings.Contains(shown, user) || strings.Contains(shown, password) || !strings.Contains(apiErr.Request, "xxxxx@"+host) {
		t.Errorf("the error's request is %q, want the host %s with its userinfo replaced", strings.NewReplacer(user, "<user>", password, "<password>").Replace(apiErr.Request), host)
	}
}
