package provider_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// TestAccCertificate_caQuotaNamesTheAccountsCAs: an account that holds its
// quota of CA certificates refuses one more with code 1489, with an HTTP
// status Cloudflare does not document. Whatever the status (a 429
// included, which is otherwise retried), the apply fails after one upload,
// names the limit and every CA that counts toward it by id and name, from
// one list request, says how to make room, and stores nothing. When that
// list fails, the advice is still given.
func TestAccCertificate_caQuotaNamesTheAccountsCAs(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		status   int
		listFail bool
	}{
		"400":              {status: http.StatusBadRequest},
		"403":              {status: http.StatusForbidden},
		"429":              {status: http.StatusTooManyRequests},
		"400, list failed": {status: http.StatusBadRequest, listFail: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := acctest.NewWithOptions(t, emulator.Options{CALimit: 5, CALimitStatus: tc.status})
			env.RequireEmulator(t)
			prefix := acctest.UniqueName(t)
			// Five CAs that count toward the quota (one unnamed, one that
			// Gateway manages), and two that do not: a leaf, and a CA that
			// Access keeps apart.
			var counted []emulator.Certificate
			for i, seed := range []struct {
				name, typ string
			}{{prefix + "-a", ""}, {prefix + "-b", ""}, {prefix + "-c", ""}, {"", ""}, {"", emulator.TypeGatewayManaged}} {
				c, err := env.Emulator.AddCertificate(env.AccountID, seed.name, true, testcerts.NewCA(fmt.Sprintf("quota %d", i)).PEM, seed.typ)
				if err != nil {
					t.Fatal(err)
				}
				counted = append(counted, c)
			}
			leaf, err := env.Emulator.AddCertificate(env.AccountID, prefix+"-leaf", false, testcerts.NewCA("quota root").Issue("quota.example.com").PEM, "")
			if err != nil {
				t.Fatal(err)
			}
			access, err := env.Emulator.AddCertificate(env.AccountID, prefix+"-access", true, testcerts.NewCA("quota access").PEM, emulator.TypeAccessManaged)
			if err != nil {
				t.Fatal(err)
			}
			if tc.listFail {
				env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteList, Status: http.StatusBadRequest, Code: 1402, Message: "list refused"})
			}

			ws := acctest.NewWorkspace(t)
			ws.SetConfig(caConfig(providerWith(env, ""), prefix+"-new", testcerts.NewCA("quota new").PEM))
			ws.Init()
			env.Emulator.ResetCounts()
			apply := ws.Run("apply", "-auto-approve", "-json", "-input=false")
			errs := apply.Errors()
			if apply.ExitCode == 0 || len(errs) != 1 {
				t.Fatalf("apply exited %d with errors %+v; want one error\n%s", apply.ExitCode, errs, apply.Stderr)
			}
			if errs[0].Summary != "Unable to Create mTLS Certificate" {
				t.Errorf("summary %q", errs[0].Summary)
			}
			detail := strings.Join(strings.Fields(errs[0].Detail), " ")
			want := []string{
				"Cloudflare refused to upload this CA certificate: account " + env.AccountID + " holds as many CA certificates as it may.",
				"The limit is 5 CA certificates per account unless Cloudflare raised it for the account, and API Shield, Workers mTLS and Gateway share it. Nothing was created.",
				"To make room, delete a CA certificate that nothing uses any more: terraform state list",
				"mtls_certificates data source (with ca = true)",
				"Or ask your Cloudflare account team to raise the limit.",
				"lifecycle { create_before_destroy = true } uploads the new CA before it deletes the old one, so it needs one free slot.",
				fmt.Sprintf("Cloudflare API: upload failed with HTTP %d %s: code 1489: Hit maximum CA cert allocation.", tc.status, http.StatusText(tc.status)),
			}
			unwanted := []string{leaf.ID, access.ID, "SSL and Certificates"}
			if tc.listFail {
				want = append(want, "Listing the account's certificates, to show which CA certificates count toward the limit, failed: list failed with HTTP 400 Bad Request: code 1402: list refused")
				for _, c := range counted {
					unwanted = append(unwanted, c.ID)
				}
			} else {
				want = append(want, "The account's CA certificates (5):",
					fmt.Sprintf(`- certificate %s (name "%s-a")`, counted[0].ID, prefix),
					fmt.Sprintf(`- certificate %s (name "%s-b")`, counted[1].ID, prefix),
					fmt.Sprintf(`- certificate %s (name "%s-c")`, counted[2].ID, prefix),
					fmt.Sprintf(`- certificate %s (no name)`, counted[3].ID),
					fmt.Sprintf(`- certificate %s (no name, type gateway_managed)`, counted[4].ID))
			}
			for _, w := range want {
				if !strings.Contains(detail, w) {
					t.Errorf("the error does not say %q:\n%s", w, detail)
				}
			}
			for _, u := range unwanted {
				if strings.Contains(detail, u) {
					t.Errorf("the error names %q, which it must not:\n%s", u, detail)
				}
			}
			for route, n := range map[string]int{emulator.RouteUpload: 1, emulator.RouteList: 1, emulator.RouteGet: 0} {
				if got := env.Emulator.RequestCount(route); got != n {
					t.Errorf("the emulator saw %d %s requests, want %d", got, route, n)
				}
			}
			if n := env.Emulator.CertificateCount(env.AccountID); n != 7 {
				t.Errorf("the account holds %d certificates after the refusal, want the 7 it held", n)
			}
			if _, ok := acctest.ResourceValues(ws.State().Values, "mtls_certificate.ca"); ok {
				t.Error("mtls_certificate.ca is in state after a refused upload")
			}
		})
	}
}
