package provider_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
)

// TestAccSharedToken_fourWorkspacesNeverRefused: four workspaces on one API
// token each apply, plan and destroy 30 certificates at once, at
// -parallelism=5, against a limit of 300 requests per minute that blocks
// the token for a minute after a refusal, as Cloudflare does (with 1,200
// per five minutes and a five-minute block). Every command succeeds, each
// certificate is stored once, and no request is refused.
//
// With batch refresh (the default) the four runs need fewer than 300
// requests. With per-certificate refresh they need about 480, so the
// providers must see from the count Cloudflare reports, which the other
// processes lower too, when to hold their requests until the window
// resets; they do with the IETF draft's headers and with the older
// X-RateLimit ones.
func TestAccSharedToken_fourWorkspacesNeverRefused(t *testing.T) {
	t.Parallel()
	const workspaces, perWorkspace = 4, 30
	for _, tc := range []struct {
		name     string
		settings string
		headers  emulator.RateLimitHeaders
		// overQuota: the runs need more requests than one window holds.
		overQuota bool
	}{
		{"batch refresh (the default)", "", emulator.RateLimitHeadersIETF, false},
		{"per-certificate refresh", "  batch_refresh = false", emulator.RateLimitHeadersIETF, true},
		{"per-certificate refresh, X-RateLimit headers", "  batch_refresh = false", emulator.RateLimitHeadersLegacy, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := acctest.NewWithOptions(t, emulator.Options{
				RateLimit: &emulator.RateLimit{Quota: 300, Window: time.Minute, Block: time.Minute, Headers: tc.headers},
			})
			env.RequireEmulator(t)
			prefix := acctest.UniqueName(t)
			providerBlock := env.ProviderConfigWith(fmt.Sprintf("  api_token = %q\n  account_id = %q\n%s", env.Token, env.AccountID, tc.settings))
			wss := make([]*acctest.Workspace, workspaces)
			for i := range wss {
				wss[i] = acctest.NewWorkspace(t)
				manyCertificates(t, wss[i], providerBlock, fmt.Sprintf("%s-w%d", prefix, i), perWorkspace)
				wss[i].Init()
			}
			env.Emulator.ResetCounts()

			// Each workspace runs its commands in order; the four run at once.
			start := time.Now()
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failures []string
			// Commands that warned of a long wait; Terraform does not show
			// the warnings of the refresh that a destroy starts with.
			warned := 0
			stored := make([]int, workspaces)
			for i, ws := range wss {
				wg.Go(func() {
					for _, args := range [][]string{
						{"apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=5"},
						{"plan", "-detailed-exitcode", "-input=false", "-no-color", "-parallelism=5"},
						{"destroy", "-auto-approve", "-input=false", "-no-color", "-parallelism=5"},
					} {
						r := ws.Run(args...)
						mu.Lock()
						if args[0] == "apply" {
							stored[i] = len(stateIDs(t, ws))
						}
						if strings.Contains(r.Stdout+r.Stderr, "Waited for Cloudflare's Rate Limit") {
							warned++
						}
						mu.Unlock()
						if r.ExitCode != 0 {
							mu.Lock()
							failures = append(failures, fmt.Sprintf("workspace %d: %s exited %d\n%s\n%s", i, args[0], r.ExitCode, r.Stdout, r.Stderr))
							mu.Unlock()
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			for _, f := range failures {
				t.Error(f)
			}

			counts := env.Emulator.RequestCounts()
			total := 0
			for _, n := range counts {
				total += n
			}
			stats := env.Emulator.RateLimitStats()
			t.Logf("%d workspaces x %d certificates, apply + plan + destroy at once: %s, %d requests (%v), "+
				"%d refused, fewest left in a window %d, %d blocks; %d commands warned of a long wait",
				workspaces, perWorkspace, elapsed.Round(time.Millisecond), total, counts, stats.Refused, stats.LowestRemaining, stats.Blocks, warned)
			if stats.Refused != 0 || stats.Blocks != 0 {
				t.Errorf("the rate limit refused %d requests and blocked the token %d times; want none", stats.Refused, stats.Blocks)
			}
			for i, n := range stored {
				if n != perWorkspace {
					t.Errorf("workspace %d stored %d certificates after apply, want %d", i, n, perWorkspace)
				}
			}
			if uploads := counts[emulator.RouteUpload]; uploads != workspaces*perWorkspace {
				t.Errorf("%d uploads, want %d: each certificate once", uploads, workspaces*perWorkspace)
			}
			if left := env.Emulator.CertificateCount(env.AccountID); left != 0 {
				var names []string
				for _, c := range env.Emulator.Certificates(env.AccountID) {
					names = append(names, c.Name)
				}
				t.Errorf("%d certificates left after the destroys: %s", left, strings.Join(names, ", "))
			}
			if tc.overQuota {
				// The runs went past one window's quota without a refusal:
				// the holds worked, rather than the load being too light.
				if total <= 300 {
					t.Errorf("%d requests: not more than one window's quota, so nothing was proved", total)
				}
				if stats.LowestRemaining > 40 {
					t.Errorf("fewest left in a window %d: the count never came near the reserve", stats.LowestRemaining)
				}

			}
		})
	}
}

// TestAccCertificate_rateLimitWaitWarns: an apply held for the rate limit
// succeeds without a refusal and ends with a warning that says how long it
// waited and why. 30 uploads against 40 requests per 15 s: the count
// reaches the reserve (half of so small a quota, 20) and the rest wait for
// the reset.
func TestAccCertificate_rateLimitWaitWarns(t *testing.T) {
	t.Parallel()
	env := acctest.NewWithOptions(t, emulator.Options{
		RateLimit: &emulator.RateLimit{Quota: 40, Window: 15 * time.Second, Block: time.Minute},
	})
	env.RequireEmulator(t)
	ws := acctest.NewWorkspace(t)
	manyCertificates(t, ws, env.ProviderConfig(), acctest.UniqueName(t), 30)
	ws.Init()
	t.Cleanup(func() { ws.Run("destroy", "-auto-approve", "-input=false", "-no-color") })
	start := time.Now()
	r := ws.MustRun("apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=5")
	elapsed := time.Since(start)
	out := strings.Join(strings.Fields(r.Stdout+r.Stderr), " ") // the CLI wraps lines
	t.Logf("apply of 30 certificates held for the rate limit: %s", elapsed.Round(time.Millisecond))
	for _, want := range []string{"Warning: Waited for Cloudflare's Rate Limit", "waited for the API token's rate limit",
		"requests left for this API token", "quota 40 requests per 15s"} {
		if !strings.Contains(out, want) {
			t.Errorf("the apply's output lacks %q:\n%s", want, out)
		}
	}
	stats := env.Emulator.RateLimitStats()
	if stats.Refused != 0 || env.Emulator.CertificateCount(env.AccountID) != 30 {
		t.Errorf("%d refused, %d stored; want 0 and 30", stats.Refused, env.Emulator.CertificateCount(env.AccountID))
	}
	if elapsed < 10*time.Second {
		t.Errorf("the apply took %s: it did not wait for the window to reset", elapsed.Round(time.Millisecond))
	}
}
