package provider

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

const (
	moveAccount = "0123456789abcdef0123456789abcdef"
	moveID      = "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10"
	moveKey     = "-----BEGIN PRIVATE KEY-----\nnot checked when moving\n-----END PRIVATE KEY-----\n"
)

func selfSignedPEM(t *testing.T) (string, *x509.Certificate) {
	t.Helper()
	notBefore := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := testcerts.New(testcerts.Options{
		Subject: pkix.Name{CommonName: "move unit"}, IsCA: true, Serial: big.NewInt(4242),
		NotBefore: notBefore, NotAfter: notBefore.Add(365 * 24 * time.Hour),
	})
	return c.PEM, c.X509
}

// officialJSON is cloudflare_mtls_certificate state as the official
// provider writes it, with changes applied (a nil value removes the
// attribute).
func officialJSON(t *testing.T, v4 bool, certificates string, changes map[string]any) []byte {
	t.Helper()
	attrs := map[string]any{
		"id": moveID, "account_id": moveAccount, "ca": true, "certificates": certificates,
		"issuer": "CN=move unit", "serial_number": "4242", "signature": "ECDSAWithSHA256",
	}
	if v4 {
		// SDKv2: "" for unset strings, a timeouts block, RFC3339Nano times.
		attrs["name"], attrs["private_key"], attrs["timeouts"] = "", "", nil
		attrs["expires_on"], attrs["uploaded_on"] = "2027-01-02T03:04:05Z", "2026-03-04T05:06:07.12Z"
	} else {
		// v5: null for unset arguments, the API's own time text.
		attrs["name"], attrs["private_key"] = nil, nil
		attrs["expires_on"], attrs["uploaded_on"], attrs["updated_at"] = "2027-01-02T03:04:05Z", "2026-03-04T05:06:07.120000Z", nil
	}
	for k, v := range changes {
		if v == nil {
			delete(attrs, k)
			continue
		}
		attrs[k] = v
	}
	out, err := json.Marshal(attrs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDecodeOfficialState(t *testing.T) {
	certPEM, cert := selfSignedPEM(t)
	cases := []struct {
		name    string
		v4      bool
		version int64
		changes map[string]any
		wantErr []string
		check   func(t *testing.T, m certificateModel)
	}{
		{
			name: "v4", v4: true, version: 0,
			check: func(t *testing.T, m certificateModel) {
				if !m.Name.IsNull() || !m.PrivateKey.IsNull() {
					t.Errorf("empty name and private_key must be null, got %v and %v", m.Name, m.PrivateKey)
				}
				if got := m.UploadedOn.ValueString(); got != "2026-03-04T05:06:07.12Z" {
					t.Errorf("uploaded_on = %q", got)
				}
			},
		},
		{
			name: "v5 production", version: 1,
			changes: map[string]any{"name": "partner-ca", "private_key": moveKey},
			check: func(t *testing.T, m certificateModel) {
				if m.Name.ValueString() != "partner-ca" || m.PrivateKey.ValueString() != moveKey {
					t.Errorf("name and private_key not kept: %q", m.Name.ValueString())
				}
				if got := m.UploadedOn.ValueString(); got != "2026-03-04T05:06:07.12Z" {
					t.Errorf("uploaded_on = %q, want the fraction without trailing zeros", got)
				}
			},
		},
		{name: "early v5", version: 0},
		{
			name: "later v5, times in another zone", version: 500,
			changes: map[string]any{"expires_on": "2027-01-02T05:04:05.5+02:00", "uploaded_on": "2026-03-04T07:06:07+02:00"},
			check: func(t *testing.T, m certificateModel) {
				if got := m.ExpiresOn.ValueString(); got != "2027-01-02T03:04:05Z" {
					t.Errorf("expires_on = %q, want UTC seconds", got)
				}
				if got := m.UploadedOn.ValueString(); got != "2026-03-04T05:06:07Z" {
					t.Errorf("uploaded_on = %q, want UTC", got)
				}
			},
		},
		{
			name: "time that is not RFC 3339 is kept for the refresh to replace", version: 1,
			changes: map[string]any{"expires_on": "soon"},
			check: func(t *testing.T, m certificateModel) {
				if m.ExpiresOn.ValueString() != "soon" {
					t.Errorf("expires_on = %q", m.ExpiresOn.ValueString())
				}
			},
		},
		{
			name: "v4 layout at a v5 version", v4: true, version: 1,
			wantErr: []string{"schema version 1 with attributes", "timeouts", "not a layout this provider knows"},
		},
		{
			name: "v5 layout at an unknown version", version: 2,
			wantErr: []string{"schema version 2", "updated_at", "v5: schema version 0, 1 or 500 with updated_at"},
		},
		{name: "no id", version: 1, changes: map[string]any{"id": nil}, wantErr: []string{"v5 layout (schema version 1) has no id"}},
		{name: "empty account", v4: true, changes: map[string]any{"account_id": ""}, wantErr: []string{"has no account_id"}},
		{name: "null ca", version: 1, changes: map[string]any{"ca": nil}, wantErr: []string{"has no ca"}},
		{
			name: "ca of another type", version: 1, changes: map[string]any{"ca": "yes"},
			wantErr: []string{"unexpected type", "ca is a JSON string, expected bool"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			changes := map[string]any{}
			if tc.wantErr != nil {
				// State may hold a private key: no error may quote it.
				changes["private_key"] = moveKey
			}
			for k, v := range tc.changes {
				changes[k] = v
			}
			s, err := decodeOfficialState(tc.version, officialJSON(t, tc.v4, certPEM, changes))
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, want %q", tc.wantErr)
				}
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				if strings.Contains(err.Error(), "not checked when moving") || strings.Contains(err.Error(), "BEGIN") {
					t.Errorf("error quotes state values: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := s.model()
			if m.ID.ValueString() != moveID || m.AccountID.ValueString() != moveAccount || !m.CA.ValueBool() ||
				m.Certificates.ValueString() != certPEM || m.SerialNumber.ValueString() != "4242" ||
				m.Issuer.ValueString() != "CN=move unit" || m.Signature.ValueString() != "ECDSAWithSHA256" {
				t.Errorf("arguments not carried over: %s %s", m.ID, m.AccountID)
			}
			if !m.Type.IsNull() {
				t.Errorf("type = %v, want null until the refresh reads it", m.Type)
			}
			if got, want := m.NotAfter.ValueString(), cert.NotAfter.UTC().Format(time.RFC3339); got != want {
				t.Errorf("not_after = %q, want %q: details must be computed", got, want)
			}
			if m.CertificateCount.ValueInt64() != 1 || m.Subject.ValueString() != "CN=move unit" || m.FingerprintSHA256.IsNull() {
				t.Errorf("details not computed: %v %v", m.CertificateCount, m.Subject)
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

func TestDecodeOfficialStateNotJSONObject(t *testing.T) {
	if _, err := decodeOfficialState(1, []byte(`["x"]`)); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Errorf("error = %v", err)
	}
}

func TestIsOfficialProvider(t *testing.T) {
	for address, want := range map[string]bool{
		"registry.terraform.io/cloudflare/cloudflare":  true,
		"registry.opentofu.org/cloudflare/cloudflare":  true,
		"registry.terraform.io/hashicorp/cloudflare":   true,
		"mirror.example.com/acme/cloudflare":           true,
		"registry.terraform.io/cloudflare/cloudflarex": false,
		"registry.terraform.io/hashicorp/tls":          false,
		"cloudflare":                                   true, // OpenTofu before 1.12.4
		"cloudflare/cloudflare":                        true,
		"registry.terraform.io//cloudflare":            false,
		"a/b/c/cloudflare":                             false,
		"cf":                                           false,
		"":                                             false,
	} {
		if got := isOfficialProvider(address); got != want {
			t.Errorf("isOfficialProvider(%q) = %t, want %t", address, got, want)
		}
	}
}

// TestMoveFromOfficial sends MoveResourceState to the provider server as
// Terraform does: the moved state, identity and private state come back
// together, and a source it does not know is an error naming it.
func TestMoveFromOfficial(t *testing.T) {
	ctx := context.Background()
	certPEM, _ := selfSignedPEM(t)
	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	r := &certificateResource{}
	var schemaResp resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &schemaResp)
	var identityResp resource.IdentitySchemaResponse
	r.IdentitySchema(ctx, resource.IdentitySchemaRequest{}, &identityResp)

	move := func(t *testing.T, typeName, address string, raw []byte) *tfprotov6.MoveResourceStateResponse {
		t.Helper()
		resp, err := server.MoveResourceState(ctx, &tfprotov6.MoveResourceStateRequest{
			SourceTypeName:        typeName,
			SourceProviderAddress: address,
			SourceSchemaVersion:   1,
			SourceState:           &tfprotov6.RawState{JSON: raw},
			TargetTypeName:        "mtls_certificate",
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	firstError := func(resp *tfprotov6.MoveResourceStateResponse) *tfprotov6.Diagnostic {
		for _, d := range resp.Diagnostics {
			if d.Severity == tfprotov6.DiagnosticSeverityError {
				return d
			}
		}
		return nil
	}

	t.Run("moved", func(t *testing.T) {
		resp := move(t, officialTypeName, "registry.opentofu.org/cloudflare/cloudflare", officialJSON(t, false, certPEM, nil))
		if d := firstError(resp); d != nil {
			t.Fatalf("%s: %s", d.Summary, d.Detail)
		}
		raw, err := resp.TargetState.Unmarshal(schemaResp.Schema.Type().TerraformType(ctx))
		if err != nil {
			t.Fatal(err)
		}
		var m certificateModel
		if diags := (tfsdk.State{Schema: schemaResp.Schema, Raw: raw}).Get(ctx, &m); diags.HasError() {
			t.Fatalf("reading moved state: %v", diags)
		}
		if m.ID.ValueString() != moveID || !m.Timeouts.IsNull() || m.NotAfter.IsNull() {
			t.Errorf("moved state: id %s, timeouts %v, not_after %v", m.ID, m.Timeouts, m.NotAfter)
		}
		if resp.TargetIdentity == nil {
			t.Fatal("no identity")
		}
		rawIdentity, err := resp.TargetIdentity.IdentityData.Unmarshal(identityResp.IdentitySchema.Type().TerraformType(ctx))
		if err != nil {
			t.Fatal(err)
		}
		var identity certificateIdentity
		diags := (tfsdk.ResourceIdentity{Schema: identityResp.IdentitySchema, Raw: rawIdentity}).Get(ctx, &identity)
		if diags.HasError() || identity.ID.ValueString() != moveID || identity.AccountID.ValueString() != moveAccount {
			t.Errorf("identity = %v %v (%v)", identity.AccountID, identity.ID, diags)
		}
		var private map[string][]byte
		if err := json.Unmarshal(resp.TargetPrivate, &private); err != nil || string(private[privateImported]) != "true" {
			t.Errorf("private state %s does not mark the certificate as imported (%v)", resp.TargetPrivate, err)
		}
	})

	for name, source := range map[string][2]string{
		"another resource type": {"cloudflare_certificate_pack", "registry.terraform.io/cloudflare/cloudflare"},
		"another provider":      {officialTypeName, "registry.terraform.io/example/notcloudflare"},
	} {
		t.Run(name, func(t *testing.T) {
			d := firstError(move(t, source[0], source[1], officialJSON(t, false, certPEM, nil)))
			if d == nil {
				t.Fatal("no error")
			}
			if d.Summary != "Unable to Move mTLS Certificate" || !strings.Contains(d.Detail, source[0]) ||
				!strings.Contains(d.Detail, source[1]) || !strings.Contains(d.Detail, "import block") {
				t.Errorf("%s: %s: does not name the source and the way out", d.Summary, d.Detail)
			}
		})
	}

	t.Run("flatmap state", func(t *testing.T) {
		d := firstError(move(t, officialTypeName, "registry.terraform.io/cloudflare/cloudflare", nil))
		if d == nil || !strings.Contains(d.Detail, "legacy flat format") {
			t.Errorf("diagnostic = %v", d)
		}
	})
}
