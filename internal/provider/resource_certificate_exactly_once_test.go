package provider_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// slowCommit is how long after an upload arrives the emulator stores it in
// tests that need Cloudflare's clock, which its answers give to the second,
// to place the certificate after the upload was sent.
const slowCommit = 1200 * time.Millisecond

// recordedTheOneStored checks that the emulator holds one certificate,
// that state holds it, and that it took uploads requests.
func recordedTheOneStored(env *acctest.Env, uploads int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		stored := env.Emulator.Certificates(env.AccountID)
		if len(stored) != 1 {
			return fmt.Errorf("the emulator holds %d certificates, want 1", len(stored))
		}
		if got := s.RootModule().Resources["mtls_certificate.ca"].Primary.ID; got != stored[0].ID {
			return fmt.Errorf("state id %q, emulator id %q", got, stored[0].ID)
		}
		if n := env.Emulator.RequestCount(emulator.RouteUpload); n != uploads {
			return fmt.Errorf("the emulator saw %d uploads, want %d", n, uploads)
		}
		return nil
	}
}

// TestAccCertificate_uploadAnswerLost: Cloudflare stores the upload, then
// the connection drops before the answer. The retry meets 1471, and the
// provider records the certificate its first attempt stored instead of
// failing or uploading it twice. It reads Cloudflare's clock from the
// Date of its answers rather than assuming the clocks agree, so a clock
// 10 minutes ahead or behind changes nothing.
func TestAccCertificate_uploadAnswerLost(t *testing.T) {
	t.Parallel()
	for name, skew := range map[string]time.Duration{"same clock": 0, "Cloudflare 10 minutes ahead": 10 * time.Minute,
		"Cloudflare 10 minutes behind": -10 * time.Minute} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := acctest.NewWithOptions(t, emulator.Options{Now: func() time.Time { return time.Now().Add(skew) }})
			env.RequireEmulator(t)
			ca := testcerts.NewCA("answer lost root")
			certName := acctest.UniqueName(t)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(),
				CheckDestroy:             checkAllDeleted(t, env, certName),
				Steps: []resource.TestStep{{
					PreConfig: func() {
						env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteUpload, Delay: slowCommit, CommitThenDrop: true})
					},
					Config: caConfig(env.ProviderConfig(), certName, ca.PEM),
					// The one stored, and its retry.
					Check: recordedTheOneStored(env, 2),
					ConfigPlanChecks: resource.ConfigPlanChecks{
						PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
					},
				}},
			})
		})
	}
}

// TestAccCertificate_uploadTwinByHand: the account already holds the same
// certificates, uploaded outside this apply. The upload fails with the
// certificate's id and the import that takes it over; following that
// advice then works.
func TestAccCertificate_uploadTwinByHand(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("twin root")
	name := acctest.UniqueName(t)
	twin, err := env.Emulator.AddCertificate(env.AccountID, name, true, ca.PEM, emulator.TypeCustom)
	if err != nil {
		t.Fatal(err)
	}
	config := caConfig(env.ProviderConfig(), name, ca.PEM)
	importID := env.AccountID + "/" + twin.ID

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{
				Config: config,
				ExpectError: acctest.ExpectErrorFragments("mTLS Certificate Already Exists",
					"certificate "+twin.ID+fmt.Sprintf(" (name %q, ca = true", name),
					"terraform import <resource address> "+importID,
					fmt.Sprintf("id = %q", importID),
					"code 1471: This certificate already exists"),
			},
			{
				PreConfig: func() {
					if n := env.Emulator.CertificateCount(env.AccountID); n != 1 {
						t.Errorf("the emulator holds %d certificates after the refused upload, want 1", n)
					}
					if n := env.Emulator.RequestCount(emulator.RouteUpload); n != 1 {
						t.Errorf("the emulator saw %d uploads, want 1: a refusal is not retried", n)
					}
				},
				Config: config + fmt.Sprintf("\nimport {\n  to = mtls_certificate.ca\n  id = %q\n}\n", importID),
				Check: func(s *terraform.State) error {
					if got := s.RootModule().Resources["mtls_certificate.ca"].Primary.ID; got != twin.ID {
						return fmt.Errorf("imported id %q, want %q", got, twin.ID)
					}
					return nil
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// TestAccCertificate_lostAnswerWithTwoCandidates: the first upload is
// stored but its answer cannot be read, and while it was under way another
// process stored the same certificates under the same name (an emulator
// that allows duplicates stands for the unknown: whether Cloudflare can
// ever hold two). Either could be this upload's, so the apply records
// neither and lists both, with their import commands.
func TestAccCertificate_lostAnswerWithTwoCandidates(t *testing.T) {
	t.Parallel()
	env := acctest.NewWithOptions(t, emulator.Options{AllowDuplicates: true})
	env.RequireEmulator(t)
	ca := testcerts.NewCA("two candidates root")
	name := acctest.UniqueName(t)
	other := make(chan string, 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		Steps: []resource.TestStep{{
			PreConfig: func() {
				env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteUpload, Delay: slowCommit, CommitThenBody: true,
					Body: []byte("<html>upstream reset</html>"), Status: 200, ContentType: "text/html"})
				go func() {
					defer close(other)
					for env.Emulator.RequestCount(emulator.RouteUpload) == 0 {
						time.Sleep(5 * time.Millisecond)
					}
					c, err := env.Emulator.AddCertificate(env.AccountID, name, true, ca.PEM, emulator.TypeCustom)
					if err == nil {
						other <- c.ID
					}
				}()
			},
			Config: caConfig(env.ProviderConfig(), name, ca.PEM),
			ExpectError: acctest.ExpectErrorFragments("Several mTLS Certificates Match a Lost Upload",
				"holds 2 certificates with these certificates, name and ca",
				"records none", "terraform import <resource address> "+env.AccountID+"/"),
		}},
	})
	otherID, ok := <-other
	stored := env.Emulator.Certificates(env.AccountID)
	if !ok || len(stored) != 2 || stored[0].ID != otherID {
		t.Fatalf("the emulator holds %+v; want the other process's %q first, then this upload's", stored, otherID)
	}
	env.DeleteNamed(t, name)
}

// TestAccCertificate_recoveredUploadWarns: an upload recorded from the
// listing after its answer was lost says so in a warning.
func TestAccCertificate_recoveredUploadWarns(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("recovered root")
	name := acctest.UniqueName(t)
	ws := acctest.NewWorkspace(t)
	ws.SetConfig(strings.Replace(caConfig(env.ProviderConfig(), name, ca.PEM), "mtls_certificate\" \"ca\"", "mtls_certificate\" \"this\"", 1))
	ws.Init()
	t.Cleanup(func() { ws.Run("destroy", "-auto-approve", "-input=false", "-no-color") })
	env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteUpload, Delay: slowCommit, CommitThenDrop: true})

	apply := ws.MustRun("apply", "-json", "-auto-approve", "-input=false")
	stored := env.Emulator.Certificates(env.AccountID)
	if len(stored) != 1 {
		t.Fatalf("the emulator holds %d certificates, want 1", len(stored))
	}
	warnings := apply.Warnings()
	if len(warnings) != 1 || warnings[0].Summary != "mTLS Certificate Recorded After a Lost Answer" ||
		!strings.Contains(warnings[0].Detail, stored[0].ID) || warnings[0].Address != "mtls_certificate.this" {
		t.Fatalf("apply warnings %+v, want one about recording %s after the lost answer", warnings, stored[0].ID)
	}
	values, _ := acctest.ResourceValues(ws.State().Values, "mtls_certificate.this")
	if values["id"] != stored[0].ID {
		t.Fatalf("state id %v, emulator id %s", values["id"], stored[0].ID)
	}
}

// TestAccCertificate_lostAnswerNeverAdoptsAnOlderCertificate: the
// account holds the same certificates, name and ca, uploaded before this
// apply (by workspace A 15 seconds earlier, or an hour ago); this apply's
// first upload loses its answer, and its retry meets 1471. Cloudflare's own
// clock says the certificate was there before the upload was sent, so the
// apply fails as "Already Exists" does instead of recording it (and later
// destroying another workspace's certificate).
func TestAccCertificate_lostAnswerNeverAdoptsAnOlderCertificate(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		age   time.Duration
		fault emulator.Fault
	}{
		"15 s older, reset before anything was stored":  {15 * time.Second, emulator.Fault{Route: emulator.RouteUpload, DropConnection: true}},
		"an hour older, the answer lost after the 1471": {time.Hour, emulator.Fault{Route: emulator.RouteUpload, CommitThenDrop: true}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var offset atomic.Int64
			env := acctest.NewWithOptions(t, emulator.Options{Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
			env.RequireEmulator(t)
			ca := testcerts.NewCA("older twin root")
			certName := acctest.UniqueName(t)
			offset.Store(int64(-tc.age))
			older, err := env.Emulator.AddCertificate(env.AccountID, certName, true, ca.PEM, emulator.TypeCustom)
			if err != nil {
				t.Fatal(err)
			}
			offset.Store(0)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(),
				Steps: []resource.TestStep{{
					PreConfig: func() { env.Emulator.InjectFault(tc.fault) },
					Config:    caConfig(env.ProviderConfig(), certName, ca.PEM),
					ExpectError: acctest.ExpectErrorFragments("mTLS Certificate Already Exists", "certificate "+older.ID,
						"terraform import <resource address> "+env.AccountID+"/"+older.ID, "after 2 attempts: code 1471"),
				}},
			})
			if stored := env.Emulator.Certificates(env.AccountID); len(stored) != 1 || stored[0].ID != older.ID {
				t.Errorf("the emulator holds %+v, want only the older certificate", stored)
			}
			if n := env.Emulator.RequestCount(emulator.RouteUpload); n != 2 {
				t.Errorf("the emulator saw %d uploads, want 2", n)
			}
		})
	}
}

// TestAccCertificate_lostAnswerWithinTheSecond: the upload is stored and
// its answer lost within the same second, so Cloudflare's clock, read to
// the second, cannot place the certificate after the upload was sent: it
// may have been there before. The apply records nothing, names the
// certificate and the import that adopts it, and the import works.
func TestAccCertificate_lostAnswerWithinTheSecond(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("within the second root")
	name := acctest.UniqueName(t)
	config := caConfig(env.ProviderConfig(), name, ca.PEM)
	var importID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteUpload, CommitThenDrop: true})
				},
				Config: config,
				ExpectError: acctest.ExpectErrorFragments("mTLS Certificate May Predate This Upload",
					"by Cloudflare's clock", "terraform import <resource address> "+env.AccountID+"/"),
			},
			{
				PreConfig: func() {
					stored := env.Emulator.Certificates(env.AccountID)
					if len(stored) != 1 {
						t.Fatalf("the emulator holds %d certificates, want 1", len(stored))
					}
					importID = env.AccountID + "/" + stored[0].ID
				},
				Config:             config,
				ResourceName:       "mtls_certificate.ca",
				ImportState:        true,
				ImportStateIdFunc:  func(*terraform.State) (string, error) { return importID, nil },
				ImportStatePersist: true,
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
	if n := env.Emulator.RequestCount(emulator.RouteUpload); n != 2 {
		t.Errorf("the emulator saw %d uploads, want 2: the one stored, and its retry", n)
	}
}

// TestAccCertificate_uploadAnsweredSuccessFalse: Cloudflare stores the
// certificate, then answers 200 with "success": false. The status and the
// envelope contradict each other, so the outcome is unknown, not "nothing
// was created": the provider looks, and records the certificate it finds.
func TestAccCertificate_uploadAnsweredSuccessFalse(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("success false root")
	name := acctest.UniqueName(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{{
			PreConfig: func() {
				env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteUpload, Delay: slowCommit, CommitThenBody: true, Status: 200,
					Body: []byte(`{"success":false,"errors":[{"code":1000,"message":"Internal error"}],"messages":[],"result":null}`)})
			},
			Config: caConfig(env.ProviderConfig(), name, ca.PEM),
			Check:  recordedTheOneStored(env, 1),
		}},
	})
}
