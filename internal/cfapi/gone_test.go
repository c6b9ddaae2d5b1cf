package cfapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
)

// TestGone: only Cloudflare's 1472, or a 404 of another kind that a complete
// listing confirms, proves a certificate gone.
func TestGone(t *testing.T) {
	ctx := context.Background()
	const unknownID = "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10"
	proxy404 := emulator.Fault{Route: emulator.RouteGet, Body: []byte("<html>Not Found</html>"), Status: http.StatusNotFound, ContentType: "text/html"}

	for _, tc := range []struct {
		name string
		// setup returns the certificate to ask about and the client to ask with.
		setup func(t *testing.T, em *emulator.Running, c *cfapi.Client) (string, *cfapi.Client)
		gone  bool
		// want is a fragment of the error; empty for none.
		want  string
		check func(t *testing.T, err error)
	}{
		{
			name: "1472",
			setup: func(t *testing.T, _ *emulator.Running, c *cfapi.Client) (string, *cfapi.Client) {
				return unknownID, c
			},
			gone: true,
		},
		{
			name: "wrong prefix: the listing fails too",
			setup: func(t *testing.T, em *emulator.Running, _ *cfapi.Client) (string, *cfapi.Client) {
				id := seedCertificates(t, em, 1, emulator.TypeCustom)[0]
				return id, newClientAt(t, strings.TrimSuffix(em.URL(), emulator.PathPrefix)+"/api"+emulator.PathPrefix)
			},
			want: "listing account " + pagingAccount + " to check failed too",
			check: func(t *testing.T, err error) {
				var unconfirmed *cfapi.UnconfirmedNotFoundError
				if !errors.As(err, &unconfirmed) || unconfirmed.Listing == nil || !strings.Contains(err.Error(), "GET http://") ||
					!strings.Contains(err.Error(), "/api/client/v4/accounts/") || !strings.Contains(err.Error(), "code 7000: No route for that URI") {
					t.Errorf("error %q: want the request, its URL and the 7000 answer", err)
				}
				if cfapi.IsStatusNotFound(err) || cfapi.IsClientError(err) {
					t.Errorf("an unconfirmed 404 must not read as an answer about the certificate")
				}
			},
		},
		{
			name: "proxy 404 for a certificate that is listed",
			setup: func(t *testing.T, em *emulator.Running, c *cfapi.Client) (string, *cfapi.Client) {
				id := seedCertificates(t, em, 1, emulator.TypeCustom)[0]
				em.InjectFault(proxy404)
				return id, c
			},
			want: "and account " + pagingAccount + " still lists it",
		},
		{
			name: "proxy 404 for a certificate that is not listed",
			setup: func(t *testing.T, em *emulator.Running, c *cfapi.Client) (string, *cfapi.Client) {
				seedCertificates(t, em, 3, emulator.TypeCustom)
				em.InjectFault(proxy404)
				return unknownID, c
			},
			gone: true,
		},
		{
			name: "routing 404 in an envelope for a certificate that is not listed",
			setup: func(t *testing.T, em *emulator.Running, c *cfapi.Client) (string, *cfapi.Client) {
				em.InjectFault(emulator.Fault{Route: emulator.RouteGet, Status: http.StatusNotFound, Code: emulator.CodeNoRoute, Message: "Could not route"})
				return unknownID, c
			},
			gone: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			em, c, _ := startPagingEmulator(t, emulator.PagingHonored)
			id, c := tc.setup(t, em, c)
			_, getErr := c.Get(ctx, pagingAccount, id)
			if getErr == nil {
				t.Fatal("Get succeeded; the case needs a failed call")
			}
			gone, err := c.ConfirmGone(ctx, pagingAccount, id, getErr)
			if gone != tc.gone {
				t.Errorf("Gone = %t (%v), want %t", gone, err, tc.gone)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Gone error = %v, want none", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Gone error = %v, want it to hold %q", err, tc.want)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
		})
	}
}

// TestGoneIncompleteListing: a listing that serves fewer certificates than
// its total_count is no proof of absence.
func TestGoneIncompleteListing(t *testing.T) {
	ctx := context.Background()
	em, c, _ := startPagingEmulator(t, emulator.PagingShrinkingTotals)
	seedCertificates(t, em, cfapi.DefaultPerPage+5, emulator.TypeCustom)
	em.InjectFault(emulator.Fault{Route: emulator.RouteGet, Status: http.StatusNotFound, Code: emulator.CodeNoRouteForURI, Message: "No route for that URI"})
	const id = "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10"
	_, getErr := c.Get(ctx, pagingAccount, id)
	gone, err := c.ConfirmGone(ctx, pagingAccount, id, getErr)
	var unconfirmed *cfapi.UnconfirmedNotFoundError
	if gone || !errors.As(err, &unconfirmed) || !errors.Is(unconfirmed.Listing, cfapi.ErrIncompleteListing) {
		t.Fatalf("Gone = %t, %v; want false and an incomplete-listing error", gone, err)
	}
}

// TestGonePassesOtherErrors: an error that is no 404 is the caller's, as it was.
func TestGonePassesOtherErrors(t *testing.T) {
	em, c, _ := startPagingEmulator(t, emulator.PagingHonored)
	em.InjectFault(emulator.Fault{Route: emulator.RouteGet, Status: http.StatusBadRequest, Code: 1234, Message: "nope"})
	_, getErr := c.Get(context.Background(), pagingAccount, "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10")
	gone, err := c.ConfirmGone(context.Background(), pagingAccount, "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10", getErr)
	if gone || !errors.Is(err, getErr) {
		t.Fatalf("Gone = %t, %v; want false and the call's own error %v", gone, err, getErr)
	}
	if n := em.RequestCount(emulator.RouteList); n != 0 {
		t.Errorf("%d list requests; a 400 needs no listing", n)
	}
}

func newClientAt(t *testing.T, baseURL string) *cfapi.Client {
	t.Helper()
	c, err := cfapi.New(cfapi.Config{APIToken: "tok", BaseURL: baseURL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
