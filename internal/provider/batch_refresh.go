package provider

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

// batchRefreshTTL bounds how old a listing may be when a refresh uses it. A
// refresh walks every certificate within seconds; the bound keeps a
// long-lived provider process (an apply that plans, waits for approval and
// applies) from serving a listing taken before the wait.
const batchRefreshTTL = 30 * time.Second

// batchRefresher serves refreshes from paged list calls, one listing per
// account shared by every concurrent Read, instead of one GET per
// certificate. A certificate missing from the listing is confirmed with a
// GET, so an out-of-band delete is told from one created after the listing.
type batchRefresher struct {
	client *cfapi.Client
	now    func() time.Time

	mu       sync.Mutex
	listings map[string]*listing
}

type listing struct {
	done  chan struct{} // closed when byID and err are set
	taken time.Time
	byID  map[string]cfapi.Certificate
	err   error
}

func newBatchRefresher(client *cfapi.Client) *batchRefresher {
	return &batchRefresher{client: client, now: time.Now, listings: map[string]*listing{}}
}

// get returns the certificate as a refresh should see it, or the error of
// the GET that confirms one missing from the listing, for Client.Gone.
func (b *batchRefresher) get(ctx context.Context, accountID, id string) (*cfapi.Certificate, error) {
	l, err := b.listing(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if c, ok := l.byID[id]; ok {
		return &c, nil
	}
	tflog.Debug(ctx, "Certificate not in the account listing; confirming with a GET", map[string]any{"account_id": accountID, "id": id})
	return b.client.Get(ctx, accountID, id)
}

// listing returns a fresh listing of the account, taking one if needed.
// Concurrent callers share a single listing in progress.
func (b *batchRefresher) listing(ctx context.Context, accountID string) (*listing, error) {
	b.mu.Lock()
	l, ok := b.listings[accountID]
	if ok {
		select {
		case <-l.done:
			if l.err != nil || b.now().Sub(l.taken) > batchRefreshTTL {
				ok = false // failed or stale: take a new one
			}
		default: // in progress: wait for it below
		}
	}
	if !ok {
		l = &listing{done: make(chan struct{}), taken: b.now()}
		b.listings[accountID] = l
		b.mu.Unlock()
		all, err := b.client.ListAll(ctx, accountID, cfapi.ListOptions{})
		l.err = err
		l.byID = make(map[string]cfapi.Certificate, len(all))
		for _, c := range all {
			l.byID[c.ID] = c
		}
		close(l.done)
		tflog.Debug(ctx, "Listed the account for batch refresh", map[string]any{"account_id": accountID, "certificates": len(all)})
		return l, err
	}
	b.mu.Unlock()
	select {
	case <-l.done:
		return l, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// forget drops an account's listing after this provider changed the
// account, so a later refresh does not miss the change.
func (b *batchRefresher) forget(accountID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.listings, accountID)
}
