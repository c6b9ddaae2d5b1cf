package cfapi_test

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// pagingAccount keeps these tests apart from the shared account constant
// in case the files ever share an emulator.
const pagingAccount = "00112233445566778899aabbccddeeff"

// seedCertificates stores n certificates of typ without HTTP, so request
// counts see only the client's reads, and returns their ids in upload order.
func seedCertificates(t *testing.T, em *emulator.Running, n int, typ string) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		leaf := testcerts.New(testcerts.Options{Subject: pkix.Name{CommonName: fmt.Sprintf("paging test %d", i)}})
		c, err := em.AddCertificate(pagingAccount, fmt.Sprintf("paged-%d", i), false, leaf.PEM, typ)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = c.ID
	}
	return ids
}

// queryRecorder keeps the query string of every request the client sends.
type queryRecorder struct {
	mu      sync.Mutex
	queries []url.Values
	next    http.RoundTripper
}

func (r *queryRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.queries = append(r.queries, req.URL.Query())
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *queryRecorder) all() []url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.queries)
}

func startPagingEmulator(t *testing.T, mode emulator.PagingMode) (*emulator.Running, *cfapi.Client, *queryRecorder) {
	t.Helper()
	em, err := emulator.Start(emulator.Options{APIToken: "tok", Paging: mode})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Close)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	rec := &queryRecorder{next: transport}
	c, err := cfapi.New(cfapi.Config{APIToken: "tok", BaseURL: em.URL(), HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	return em, c, rec
}

func ids(certs []cfapi.Certificate) []string {
	out := make([]string, len(certs))
	for i, c := range certs {
		out[i] = c.ID
	}
	return out
}

func TestListAllReadsEveryPage(t *testing.T) {
	em, c, rec := startPagingEmulator(t, emulator.PagingHonored)
	want := seedCertificates(t, em, 120, emulator.TypeCustom)
	ctx := context.Background()

	for _, tc := range []struct {
		perPage, wantRequests int
	}{
		{perPage: 0, wantRequests: 3},
		{perPage: 7, wantRequests: 18},
		{perPage: 120, wantRequests: 1},
		{perPage: 1000, wantRequests: 1},
	} {
		t.Run(fmt.Sprintf("per_page %d", tc.perPage), func(t *testing.T) {
			em.ResetCounts()
			got, err := c.ListAll(ctx, pagingAccount, cfapi.ListOptions{PerPage: tc.perPage})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), want) {
				t.Errorf("got %d certificates, want all 120 once each in upload order", len(got))
			}
			if n := em.RequestCount(emulator.RouteList); n != tc.wantRequests {
				t.Errorf("%d list requests, want %d", n, tc.wantRequests)
			}
		})
	}

	// The first read asked for pages 1..3 of 50, each naming page and
	// per_page explicitly.
	for i, q := range rec.all()[:3] {
		if q.Get("page") != fmt.Sprint(i+1) || q.Get("per_page") != "50" || q.Has("type") {
			t.Errorf("request %d query %v, want page=%d per_page=50 and no type", i+1, q, i+1)
		}
	}

	got, err := c.ListAll(ctx, pagingAccount, cfapi.ListOptions{PerPage: -1})
	if err == nil || got != nil {
		t.Errorf("negative per_page: %d certificates, error %v; want an error", len(got), err)
	}
}

func TestListAllTypeFilter(t *testing.T) {
	em, c, rec := startPagingEmulator(t, emulator.PagingHonored)
	custom := seedCertificates(t, em, 3, emulator.TypeCustom)
	gateway := seedCertificates(t, em, 4, emulator.TypeGatewayManaged)
	access := seedCertificates(t, em, 2, emulator.TypeAccessManaged)
	ctx := context.Background()

	for _, tc := range []struct {
		types     []string
		wantQuery string
		want      []string
	}{
		{types: nil, want: slices.Concat(custom, gateway, access)},
		{types: []string{"gateway_managed"}, wantQuery: "gateway_managed", want: gateway},
		{types: []string{"custom", "access_managed"}, wantQuery: "custom,access_managed", want: slices.Concat(custom, access)},
	} {
		t.Run(fmt.Sprint(tc.types), func(t *testing.T) {
			before := len(rec.all())
			got, err := c.ListAll(ctx, pagingAccount, cfapi.ListOptions{Types: tc.types, PerPage: 2})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("got %v, want %v", ids(got), tc.want)
			}
			for _, q := range rec.all()[before:] {
				// One comma-separated value, as the API documents, on
				// every page and not only the first.
				if q.Get("type") != tc.wantQuery || len(q["type"]) > 1 {
					t.Errorf("query %v, want type=%q once", q, tc.wantQuery)
				}
			}
		})
	}

	_, err := c.ListAll(ctx, pagingAccount, cfapi.ListOptions{Types: []string{"custom", "bogus"}})
	if !cfapi.IsClientError(err) {
		t.Errorf("unknown type: error %v, want the server's 4XX", err)
	}
}

func TestListAllEmptyAccount(t *testing.T) {
	em, c, _ := startPagingEmulator(t, emulator.PagingHonored)
	got, err := c.ListAll(context.Background(), pagingAccount, cfapi.ListOptions{})
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("ListAll = %v, %v; want an empty, non-nil slice", got, err)
	}
	if n := em.RequestCount(emulator.RouteList); n != 1 {
		t.Errorf("%d list requests, want 1", n)
	}
}

// TestListAllFailsOnAnyPage makes sure a failure past the first page is an
// error, not a silently shortened list.
func TestListAllFailsOnAnyPage(t *testing.T) {
	em, c, _ := startPagingEmulator(t, emulator.PagingHonored)
	seedCertificates(t, em, 60, emulator.TypeCustom)
	// Faults apply in order: a delay-only fault lets page 1 through, then
	// page 2 gets a 400, which the SDK does not retry.
	em.InjectFault(emulator.Fault{Route: emulator.RouteList, Delay: time.Nanosecond})
	em.InjectFault(emulator.Fault{Route: emulator.RouteList, Status: http.StatusBadRequest, Code: 1402})
	got, err := c.ListAll(context.Background(), pagingAccount, cfapi.ListOptions{})
	if !cfapi.IsClientError(err) || got != nil {
		t.Fatalf("ListAll = %d certificates, %v; want no list and the page 2 error", len(got), err)
	}
	if n := em.RequestCount(emulator.RouteList); n != 2 {
		t.Errorf("%d list requests, want 2", n)
	}
}

// TestListAllAgainstMisbehavingServers pins what the client does when the
// server's paging cannot be trusted: it neither loops nor answers from part
// of the account, but fails saying what it got and what was reported.
func TestListAllAgainstMisbehavingServers(t *testing.T) {
	for _, tc := range []struct {
		mode         emulator.PagingMode
		seeded       int
		wantRequests int
		wantErr      string
	}{
		{
			// The case: every page is the first 50 of 61.
			mode: emulator.PagingIgnored, seeded: 61, wantRequests: 2,
			wantErr: "it ended after page 2 with 50 certificates, but the API reported 61 (result_info.total_count)",
		},
		{
			mode: emulator.PagingIgnored, seeded: 120, wantRequests: 2,
			wantErr: "after page 2 with 50 certificates, but the API reported 120",
		},
		{
			// total_pages says 6, but page 4 is empty and ends the read.
			mode: emulator.PagingInconsistentTotals, seeded: 120, wantRequests: 4,
			wantErr: "after page 4 with 120 certificates, but the API reported 300",
		},
		{
			// total_pages says 1, and total_count 120.
			mode: emulator.PagingShrinkingTotals, seeded: 120, wantRequests: 1,
			wantErr: "after page 1 with 50 certificates, but the API reported 120",
		},
	} {
		t.Run(fmt.Sprintf("%s %d", tc.mode, tc.seeded), func(t *testing.T) {
			em, c, _ := startPagingEmulator(t, tc.mode)
			seedCertificates(t, em, tc.seeded, emulator.TypeCustom)
			got, err := c.ListAll(context.Background(), pagingAccount, cfapi.ListOptions{})
			if !errors.Is(err, cfapi.ErrIncompleteListing) || got != nil {
				t.Fatalf("ListAll = %d certificates, %v; want none and an incomplete listing error", len(got), err)
			}
			for _, want := range []string{tc.wantErr, "a server that ignores the `page` parameter"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if n := em.RequestCount(emulator.RouteList); n != tc.wantRequests {
				t.Errorf("%d list requests, want %d", n, tc.wantRequests)
			}
		})
	}
}

func TestAssociationsAll(t *testing.T) {
	var assoc []emulator.Association
	for i := range 45 {
		assoc = append(assoc, emulator.Association{Service: fmt.Sprintf("service-%d", i), Status: "active"})
	}
	want := make([]cfapi.Association, len(assoc))
	for i, a := range assoc {
		want[i] = cfapi.Association{Service: a.Service, Status: a.Status}
	}

	for _, tc := range []struct {
		mode         emulator.PagingMode
		wantRequests int
		// incomplete: the pages fall short of total_count, so the read fails.
		incomplete bool
	}{
		{mode: emulator.PagingHonored, wantRequests: 3},
		{mode: emulator.PagingIgnored, wantRequests: 2, incomplete: true},
		{mode: emulator.PagingInconsistentTotals, wantRequests: 4, incomplete: true},
		{mode: emulator.PagingShrinkingTotals, wantRequests: 1, incomplete: true},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			em, c, rec := startPagingEmulator(t, tc.mode)
			id := seedCertificates(t, em, 1, emulator.TypeCustom)[0]
			em.SetAssociations(pagingAccount, id, assoc)
			got, err := c.AssociationsAll(context.Background(), pagingAccount, id)
			switch {
			case tc.incomplete:
				if !errors.Is(err, cfapi.ErrIncompleteListing) || got != nil || !strings.Contains(err.Error(), "associations, but the API reported") {
					t.Fatalf("AssociationsAll = %d associations, %v; want none and an incomplete listing error", len(got), err)
				}
			case err != nil:
				t.Fatal(err)
			case !slices.Equal(got, want):
				t.Errorf("got %d associations, want all 45 in order", len(got))
			}
			if n := em.RequestCount(emulator.RouteAssociations); n != tc.wantRequests {
				t.Errorf("%d associations requests, want %d", n, tc.wantRequests)
			}
			for i, q := range rec.all() {
				if q.Get("page") != fmt.Sprint(i+1) || q.Has("per_page") {
					t.Errorf("request %d query %v, want page=%d and no per_page", i+1, q, i+1)
				}
			}
		})
	}
}

func TestAssociationsAllKeepsIdenticalEntries(t *testing.T) {
	em, c, _ := startPagingEmulator(t, emulator.PagingHonored)
	id := seedCertificates(t, em, 1, emulator.TypeCustom)[0]
	gateway := emulator.Association{Service: "gateway", Status: "active"}
	em.SetAssociations(pagingAccount, id, []emulator.Association{gateway, gateway, {Service: "access", Status: "pending_deployment"}})
	got, err := c.AssociationsAll(context.Background(), pagingAccount, id)
	if err != nil || len(got) != 3 {
		t.Fatalf("AssociationsAll = %+v, %v; want all 3 entries", got, err)
	}
}

func TestAssociationsAllEmptyAndMissing(t *testing.T) {
	em, c, _ := startPagingEmulator(t, emulator.PagingHonored)
	id := seedCertificates(t, em, 1, emulator.TypeCustom)[0]
	ctx := context.Background()
	got, err := c.AssociationsAll(ctx, pagingAccount, id)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("AssociationsAll = %v, %v; want an empty, non-nil slice", got, err)
	}
	if n := em.RequestCount(emulator.RouteAssociations); n != 1 {
		t.Errorf("%d associations requests, want 1", n)
	}
	if _, err := c.AssociationsAll(ctx, pagingAccount, "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10"); !cfapi.IsCertificateNotFound(err) {
		t.Errorf("unknown certificate: error %v, want not found", err)
	}
}
