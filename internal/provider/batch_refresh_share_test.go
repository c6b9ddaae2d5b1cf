package provider

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
)

// sweepShares are the values of batchShare the sweep compares; the default
// is added when it is not among them.
var sweepShares = []float64{0.125, 0.25, 0.5, 1.0}

// TestBatchRefreshShareSweep shows what batchShare buys: for each share, the
// list and GET requests the batch refresher sends to refresh some of an
// account's certificates, next to the GETs of batch_refresh = false. The
// refreshes come 10 at a time, as at the CLI's default parallelism, against
// an emulator that answers in 20 ms, and ask for the certificates at the end
// of the account, so that few are on the first page. It logs a markdown
// table for whoever tunes the share, and holds the default share to the
// limits TestBatchRefresherBatchesOnlyWhenItSaves asserts on every run.
// Skipped unless MTLS_BENCH_SWEEP=1: it seeds two accounts and takes about
// half a minute.
func TestBatchRefreshShareSweep(t *testing.T) {
	if os.Getenv("MTLS_BENCH_SWEEP") != "1" {
		t.Skip("set MTLS_BENCH_SWEEP=1 to sweep the batch share")
	}
	defaultShare := batchShare
	t.Cleanup(func() { batchShare = defaultShare })
	shares := slices.Clone(sweepShares)
	if !slices.Contains(shares, defaultShare) {
		shares = append(shares, defaultShare)
		slices.Sort(shares)
	}

	const parallel = 10
	cases := []struct {
		managed, account int
		// limit is the most requests the default share may cost; 0: none.
		limit int
	}{
		{managed: 3, account: 5000, limit: 4},
		{managed: 26, account: 5000},
		{managed: 100, account: 5000},
		{managed: 1000, account: 1000, limit: 25},
		{managed: 1000, account: 5000},
	}
	// One account per size, shared by its cases: a refresh changes nothing.
	// Each run gets a client of its own, as each provider process has: a
	// shared one would spend its rate limiter's burst (cfapi.RateLimitBurst)
	// on the runs before and hold the later ones.
	type fixture struct {
		em  *emulator.Running
		ids []string
	}
	fixtures := map[int]fixture{}

	header := "| Managed of account |"
	separator := "|---|"
	for _, share := range shares {
		header += " share " + strconv.FormatFloat(share, 'g', -1, 64)
		if share == defaultShare {
			header += " (the default)"
		}
		header += " |"
		separator += "--:|"
	}
	header += " batch_refresh = false |"
	separator += "--:|"
	rows := []string{header, separator}

	for _, tc := range cases {
		f, ok := fixtures[tc.account]
		if !ok {
			em, _, ids := batchFixtureWith(t, tc.account, emulator.Options{APIToken: "tok", Latency: 20 * time.Millisecond})
			f = fixture{em: em, ids: ids}
			fixtures[tc.account] = f
		}
		refreshed := f.ids[len(f.ids)-tc.managed:]
		cells := []string{fmt.Sprintf("%d of %d", tc.managed, tc.account)}
		for _, share := range shares {
			client, err := cfapi.New(cfapi.Config{APIToken: "tok", BaseURL: f.em.URL()})
			if err != nil {
				t.Fatal(err)
			}
			batchShare = share
			f.em.ResetCounts()
			started := time.Now()
			refreshAll(t, newBatchRefresher(client), refreshed, parallel)
			took := time.Since(started)
			lists, gets := f.em.RequestCount(emulator.RouteList), f.em.RequestCount(emulator.RouteGet)
			cells = append(cells, fmt.Sprintf("%d (%d list + %d GET)", lists+gets, lists, gets))
			t.Logf("share %g: %d of %d refreshed with %d list requests and %d GETs in %s",
				share, tc.managed, tc.account, lists, gets, took.Round(time.Millisecond))
			if share == defaultShare && tc.limit > 0 && lists+gets > tc.limit {
				t.Errorf("at the default share %g, refreshing %d of %d cost %d requests (%d list + %d GET); want at most %d",
					share, tc.managed, tc.account, lists+gets, lists, gets, tc.limit)
			}
		}
		// batch_refresh = false: a GET per certificate.
		cells = append(cells, strconv.Itoa(tc.managed))
		rows = append(rows, "| "+strings.Join(cells, " | ")+" |")
	}
	batchShare = defaultShare
	for _, row := range rows {
		t.Log(row)
	}
}
