package provider

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

const batchAccount = "0123456789abcdef0123456789abcdef"

func batchFixture(t *testing.T, n int) (*emulator.Running, *cfapi.Client, []string) {
	t.Helper()
	return batchFixtureWith(t, n, emulator.Options{APIToken: "tok"})
}

func batchFixtureWith(t *testing.T, n int, opts emulator.Options) (*emulator.Running, *cfapi.Client, []string) {
	t.Helper()
	em, err := emulator.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Close)
	client, err := cfapi.New(cfapi.Config{APIToken: "tok", BaseURL: em.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, n)
	for i := range n {
		c, err := em.AddCertificate(batchAccount, fmt.Sprintf("batch-%03d", i), true, testcerts.NewCA(fmt.Sprintf("batch %d", i)).PEM, "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	em.ResetCounts()
	return em, client, ids
}

// TestBatchRefresherSharesOneListing: 120 concurrent refreshes cost one
// listing of 3 pages and no GET.
func TestBatchRefresherSharesOneListing(t *testing.T) {
	em, client, ids := batchFixture(t, 120)
	refreshAll(t, newBatchRefresher(client), ids, len(ids))
	if got := em.RequestCount(emulator.RouteList); got != 3 {
		t.Errorf("list requests = %d, want 3 (120 certificates at 50 per page)", got)
	}
	if got := em.RequestCount(emulator.RouteGet); got != 0 {
		t.Errorf("GET requests = %d, want 0", got)
	}
}

// TestBatchRefresherConfirmsMissingWithGet: a certificate created after the
// listing is found with a GET; one deleted is reported as not found.
func TestBatchRefresherConfirmsMissingWithGet(t *testing.T) {
	em, client, ids := batchFixture(t, 2)
	b := newBatchRefresher(client)
	if _, err := b.get(context.Background(), batchAccount, ids[0]); err != nil {
		t.Fatal(err)
	}
	later, err := em.AddCertificate(batchAccount, "later", true, testcerts.NewCA("batch later").PEM, "")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := b.get(context.Background(), batchAccount, later.ID); err != nil || c.Name != "later" {
		t.Fatalf("certificate created after the listing: %v, %v", c, err)
	}
	if _, err := b.get(context.Background(), batchAccount, "00000000-0000-4000-8000-000000000000"); !cfapi.IsCertificateNotFound(err) {
		t.Fatalf("missing certificate: err = %v, want not found", err)
	}
	if got := em.RequestCount(emulator.RouteList); got != 1 {
		t.Errorf("list requests = %d, want 1", got)
	}
	if got := em.RequestCount(emulator.RouteGet); got != 2 {
		t.Errorf("GET requests = %d, want 2 (one per certificate missing from the listing)", got)
	}
}

// TestBatchRefresherIncompleteListing: a server that answers every page
// with the first 50 of 61 certificates hides the 61st from the listing; its
// refresh asks for it with a GET instead of taking it for gone.
func TestBatchRefresherIncompleteListing(t *testing.T) {
	em, client, ids := batchFixtureWith(t, 61, emulator.Options{APIToken: "tok", Paging: emulator.PagingIgnored})
	b := newBatchRefresher(client)
	for _, id := range []string{ids[0], ids[60]} {
		if c, err := b.get(context.Background(), batchAccount, id); err != nil || c.ID != id {
			t.Fatalf("refresh of %s: %v, %v", id, c, err)
		}
	}
	if got := em.RequestCount(emulator.RouteGet); got != 1 {
		t.Errorf("GET requests = %d, want 1 (the certificate beyond the incomplete listing)", got)
	}
}

// TestBatchRefresherListsAgainWhenStale: a listing older than the TTL, or
// dropped by forget, is taken again.
func TestBatchRefresherListsAgainWhenStale(t *testing.T) {
	em, client, ids := batchFixture(t, 1)
	b := newBatchRefresher(client)
	now := time.Now()
	b.now = func() time.Time { return now }
	get := func() {
		t.Helper()
		if _, err := b.get(context.Background(), batchAccount, ids[0]); err != nil {
			t.Fatal(err)
		}
	}
	get()
	get()
	now = now.Add(batchRefreshTTL + time.Second)
	get()
	b.forget(batchAccount)
	get()
	if got := em.RequestCount(emulator.RouteList); got != 3 {
		t.Errorf("list requests = %d, want 3 (first, after the TTL, after forget)", got)
	}
}

// refreshAll refreshes ids through b, at most parallel at once as the CLI
// does, and fails the test on any error or wrong answer.
func refreshAll(t *testing.T, b *batchRefresher, ids []string, parallel int) {
	t.Helper()
	var wg sync.WaitGroup
	slots := make(chan struct{}, parallel)
	errs := make(chan error, len(ids))
	for _, id := range ids {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			c, err := b.get(context.Background(), batchAccount, id)
			if err == nil && c.ID != id {
				err = fmt.Errorf("asked for %s, got %s", id, c.ID)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestBatchRefresherBatchesOnlyWhenItSaves: the requests a refresh costs
// follow what the run shows. A workspace that manages every certificate of
// its account lists it; one that manages 3 of 2,000 reads one page and
// sends 3 GETs instead of listing 40 pages.
func TestBatchRefresherBatchesOnlyWhenItSaves(t *testing.T) {
	cases := []struct {
		name             string
		account, managed int
		parallel         int
		wantLists        int
		maxGets          int
	}{
		// Latency lets the refreshes at the CLI's default parallelism
		// arrive while the first page is read, as they do against the API.
		// In listing order, the first 50 refreshes find their
		// certificates on the first page, and the next misses are sent as
		// GETs until they reach a quarter of the 19 pages left.
		{"1000 of 1000 at parallelism 10", 1000, 1000, 10, 20, 4},
		{"3 of 2000, one at a time", 2000, 3, 1, 1, 3},
		{"3 of 2000 at once", 2000, 3, 10, 1, 3},
		{"all 120 of 120, one at a time", 120, 120, 1, 3, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			em, client, ids := batchFixtureWith(t, tc.account, emulator.Options{APIToken: "tok", Latency: 20 * time.Millisecond})
			refreshAll(t, newBatchRefresher(client), ids[len(ids)-tc.managed:], tc.parallel) // none on the first page, unless all
			lists, gets := em.RequestCount(emulator.RouteList), em.RequestCount(emulator.RouteGet)
			t.Logf("%d refreshes of an account of %d: %d list requests, %d GETs", tc.managed, tc.account, lists, gets)
			if lists != tc.wantLists || gets > tc.maxGets {
				t.Errorf("list requests = %d, GETs = %d; want %d and at most %d", lists, gets, tc.wantLists, tc.maxGets)
			}
		})
	}
}

// TestBatchRefresherSurvivesItsFirstCaller: the refresh that starts a
// listing gives up (its deadline passes) while the listing is slow; the
// listing goes on, on its own context, and serves the refresh that waits
// with a longer deadline. Each waiter keeps its own deadline.
func TestBatchRefresherSurvivesItsFirstCaller(t *testing.T) {
	em, client, ids := batchFixture(t, 2)
	em.InjectFault(emulator.Fault{Route: emulator.RouteList, Delay: 300 * time.Millisecond})
	b := newBatchRefresher(client)
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var shortErr, longErr error
	var got *cfapi.Certificate
	wg.Go(func() { _, shortErr = b.get(short, batchAccount, ids[0]) })
	time.Sleep(10 * time.Millisecond)
	wg.Go(func() {
		long, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		got, longErr = b.get(long, batchAccount, ids[1])
	})
	wg.Wait()
	if shortErr == nil {
		t.Errorf("the refresh with a 50 ms deadline succeeded behind a 300 ms listing")
	}
	if longErr != nil || got == nil || got.ID != ids[1] {
		t.Fatalf("the refresh that waited: %v, %v; want certificate %s from the listing its first caller left", got, longErr, ids[1])
	}
	if lists, gets := em.RequestCount(emulator.RouteList), em.RequestCount(emulator.RouteGet); lists != 1 || gets != 0 {
		t.Errorf("list requests = %d, GETs = %d; want 1 and 0", lists, gets)
	}
}

// TestBatchRefresherFallsBackToGets: a listing that fails does not fail
// the refreshes; each is served by its own GET.
func TestBatchRefresherFallsBackToGets(t *testing.T) {
	for _, page := range []string{"first page", "second page"} {
		t.Run(page, func(t *testing.T) {
			em, client, ids := batchFixture(t, 60)
			if page == "second page" {
				// Faults apply in order: the first page goes through, then
				// every later list request is refused.
				em.InjectFault(emulator.Fault{Route: emulator.RouteList, Delay: time.Millisecond})
			}
			em.InjectFault(emulator.Fault{Route: emulator.RouteList, Status: http.StatusForbidden, Times: 100})
			b := newBatchRefresher(client)
			refreshAll(t, b, ids, 10)
			if gets := em.RequestCount(emulator.RouteGet); gets < 10 {
				t.Errorf("GETs = %d; want the refreshes served by GETs after the listing failed", gets)
			}
		})
	}
}

// TestBatchRefresherSlowListingIsNotStale: a listing that takes longer
// than the TTL to read is fresh when it is done, so the refreshes that come
// after it use it rather than start another.
func TestBatchRefresherSlowListingIsNotStale(t *testing.T) {
	em, client, ids := batchFixtureWith(t, 120, emulator.Options{APIToken: "tok", Latency: 20 * time.Millisecond})
	b := newBatchRefresher(client)
	// The clock runs 1,000 times as fast: each 20 ms page takes 20 s.
	start := time.Now()
	b.now = func() time.Time { return start.Add(time.Since(start) * 1000) }
	refreshAll(t, b, ids, 10)
	if lists, gets := em.RequestCount(emulator.RouteList), em.RequestCount(emulator.RouteGet); lists != 3 || gets > 1 {
		t.Errorf("list requests = %d, GETs = %d; want one listing of 3 pages (and at most a GET while deciding)", lists, gets)
	}
}
