package provider

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

const (
	// batchRefreshTTL bounds how old a listing may be when a refresh uses
	// it. A refresh walks every certificate within seconds; the bound keeps
	// a long-lived provider process (an apply that plans, waits for
	// approval and applies) from serving a listing taken before the wait.
	batchRefreshTTL = 30 * time.Second
	// batchListTimeout bounds a listing, which runs on its own context:
	// the refresh that started it may be canceled, and the others that
	// wait for it each keep their own deadline.
	batchListTimeout = 2 * time.Minute
)

// batchShare decides when reading the rest of a listing pays. A refresh
// whose certificate is not on the first page costs a GET, and the rest of
// the listing costs one request per page left, so the listing is read once
// the refreshes that missed the first page reach this share of the pages
// left (at least one). The share is a bet on how many more refreshes will
// come: with a quarter, a workspace that manages every certificate of its
// account lists it all at once (at the CLI's default parallelism of 10 the
// refreshes waiting on the first page are already enough up to 40 pages,
// 2,000 certificates), while one that manages 3 of 5,000 sends 3 GETs after
// a single page. Its worst case, refreshes just past the share, costs the
// whole listing on top of the GETs: about 1.25 times the pages. make bench
// reports the request counts of those cases.
var batchShare = 0.25

// batchRefresher serves refreshes from paged list calls, one listing per
// account shared by every concurrent Read, when that costs fewer requests
// than one GET per certificate. A certificate missing from a complete
// listing is confirmed with a GET, so an out-of-band delete is told from
// one created after the listing; a listing that fails falls back to GETs.
type batchRefresher struct {
	client *cfapi.Client
	now    func() time.Time

	mu       sync.Mutex
	listings map[string]*listing
}

// listing is one account's listing, read a page at a time. Its fields
// after first and rest are guarded by batchRefresher.mu.
type listing struct {
	// readAt is when the listing was last read to the end of what is
	// decided: its first page, or every page. Its age counts from then, so
	// a listing that took long to read is not stale as soon as it is done.
	readAt time.Time
	// first is closed once the first page is read or the listing failed.
	first chan struct{}
	// rest is closed once every page is read or the listing failed; nil
	// until reading the rest is decided.
	rest chan struct{}

	byID      map[string]cfapi.Certificate
	complete  bool // every page read, and the totals agree
	pagesLeft int  // after the first page, as its result_info says
	err       error
	// early are the certificates asked for while the first page was being
	// read; misses counts the refreshes that were not on it.
	early  []string
	misses int

	pages *cfapi.CertificatePages
	// ctx is the listing's own; cancel ends it once the listing is read
	// or failed. A listing whose rest is never read ends with the timeout.
	ctx    context.Context
	cancel context.CancelFunc
	waits  *cfapi.RateLimitWaits
}

func newBatchRefresher(client *cfapi.Client) *batchRefresher {
	return &batchRefresher{client: client, now: time.Now, listings: map[string]*listing{}}
}

// get returns the certificate as a refresh should see it, or the error of
// the GET that stands in for the listing or confirms one missing from it,
// for Client.ConfirmGone.
func (b *batchRefresher) get(ctx context.Context, accountID, id string) (*cfapi.Certificate, error) {
	l, early := b.current(ctx, accountID, id)
	if !b.await(ctx, l, l.first) {
		return nil, ctx.Err()
	}
	b.mu.Lock()
	if c, ok := l.byID[id]; ok {
		b.mu.Unlock()
		return &c, nil
	}
	if l.err != nil || l.complete {
		// Listing failed (GET instead), or the certificate is not in a
		// complete listing (GET to confirm).
		b.mu.Unlock()
		return b.client.Get(ctx, accountID, id)
	}
	if l.rest == nil {
		if !early {
			l.misses++
		}
		if float64(l.misses) < batchThreshold(l.pagesLeft) {
			b.mu.Unlock()
			return b.client.Get(ctx, accountID, id)
		}
		b.readRestLocked(l)
	}
	rest := l.rest
	b.mu.Unlock()
	if !b.await(ctx, l, rest) {
		return nil, ctx.Err()
	}
	b.mu.Lock()
	c, ok := l.byID[id]
	b.mu.Unlock()
	if ok {
		return &c, nil
	}
	return b.client.Get(ctx, accountID, id)
}

// batchThreshold is how many refreshes must miss the first page before the
// pages left are read.
func batchThreshold(pagesLeft int) float64 {
	return max(1, math.Ceil(batchShare*float64(pagesLeft)))
}

// await waits for done or for ctx, and reports whether done came; the
// listing's rate limit waits count as the caller's.
func (b *batchRefresher) await(ctx context.Context, l *listing, done <-chan struct{}) bool {
	select {
	case <-done:
	default:
		select {
		case <-done:
		case <-ctx.Done():
			return false
		}
		if w := cfapi.RateLimitWaitsOf(ctx); w != nil {
			w.Add(l.waits)
		}
	}
	return true
}

// current returns a fresh listing of the account, starting one if needed,
// and whether the caller came while its first page was being read.
func (b *batchRefresher) current(ctx context.Context, accountID, id string) (*listing, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.listings[accountID]
	if ok {
		select {
		case <-l.first:
			ok = b.usableLocked(l)
		default:
			l.early = append(l.early, id)
			return l, true
		}
	}
	if ok {
		return l, false
	}
	l = &listing{first: make(chan struct{}), byID: map[string]cfapi.Certificate{}, early: []string{id}}
	b.listings[accountID] = l
	// The listing outlives the refresh that starts it, keeping its logger.
	listCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), batchListTimeout)
	l.ctx, l.waits = cfapi.WithRateLimitWaits(listCtx)
	l.cancel = cancel
	pages, err := b.client.CertificatePages(accountID, cfapi.ListOptions{Types: []string{"custom"}})
	if err != nil {
		b.failLocked(l, err)
		close(l.first)
		return l, true
	}
	l.pages = pages
	go b.readFirst(l, accountID)
	return l, true
}

// usableLocked reports whether a listing whose first page is read may
// serve another refresh: not when it failed, nor when it is older than
// batchRefreshTTL since its last read; one whose rest is being read is
// waited for.
func (b *batchRefresher) usableLocked(l *listing) bool {
	if l.err != nil {
		return false
	}
	if l.rest != nil {
		select {
		case <-l.rest:
		default:
			return true
		}
	}
	return b.now().Sub(l.readAt) <= batchRefreshTTL
}

// readFirst reads the first page, then decides from the refreshes that
// have come meanwhile whether to read the rest at once.
func (b *batchRefresher) readFirst(l *listing, accountID string) {
	page, err := l.pages.Next(l.ctx)
	b.mu.Lock()
	defer b.mu.Unlock()
	defer close(l.first)
	if err != nil {
		b.failLocked(l, err)
		return
	}
	for _, c := range page {
		l.byID[c.ID] = c
	}
	l.readAt = b.now()
	if l.pages.Done() {
		defer l.cancel()
		l.complete = l.pages.Complete()
		tflog.Debug(l.ctx, "Listed the account for batch refresh in one page", map[string]any{
			"account_id": accountID, "certificates": len(l.byID), "complete": l.complete,
		})
		return
	}
	l.pagesLeft = l.pages.PagesLeft()
	for _, id := range l.early {
		if _, ok := l.byID[id]; !ok {
			l.misses++
		}
	}
	tflog.Debug(l.ctx, "Read the first page of the account for batch refresh", map[string]any{
		"account_id": accountID, "pages_left": l.pagesLeft, "refreshes_missed": l.misses,
		"threshold": batchThreshold(l.pagesLeft),
	})
	if float64(l.misses) >= batchThreshold(l.pagesLeft) {
		b.readRestLocked(l)
	}
}

// readRestLocked starts reading the pages left.
func (b *batchRefresher) readRestLocked(l *listing) {
	l.rest = make(chan struct{})
	go func() {
		var got []cfapi.Certificate
		var err error
		for !l.pages.Done() && err == nil {
			var page []cfapi.Certificate
			page, err = l.pages.Next(l.ctx)
			got = append(got, page...)
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		defer close(l.rest)
		if err != nil {
			b.failLocked(l, err)
			return
		}
		defer l.cancel()
		for _, c := range got {
			l.byID[c.ID] = c
		}
		l.readAt = b.now()
		l.complete = l.pages.Complete()
		tflog.Debug(l.ctx, "Listed the account for batch refresh", map[string]any{
			"certificates": len(l.byID), "complete": l.complete,
		})
	}()
}

// failLocked records a failed listing: its refreshes fall back to GETs.
func (b *batchRefresher) failLocked(l *listing, err error) {
	l.err = err
	tflog.Warn(l.ctx, "Batch refresh could not list the account; refreshing with a GET per certificate instead",
		map[string]any{"error": err.Error()})
	l.cancel()
}

// forget drops an account's listing after this provider changed the
// account, so a later refresh does not miss the change.
func (b *batchRefresher) forget(accountID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.listings, accountID)
}
