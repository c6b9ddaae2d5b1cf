package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
)

const batchAccount = "0123456789abcdef0123456789abcdef"

func batchFixture(t *testing.T, n int) (*emulator.Running, *cfapi.Client, []string) {
	t.Helper()
	em, err := emulator.Start(emulator.Options{APIToken: "tok"})
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
		c, err := em.AddCertificate(batchAccount, fmt.Sprintf("batch-%03d", i), true, selfSigned(t, i), "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	em.ResetCounts()
	return em, client, ids
}

func selfSigned(t *testing.T, serial int) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(serial + 1)), Subject: pkix.Name{CommonName: fmt.Sprintf("batch %d", serial)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestBatchRefresherSharesOneListing: 120 concurrent refreshes cost one
// listing of 3 pages and no GET.
func TestBatchRefresherSharesOneListing(t *testing.T) {
	em, client, ids := batchFixture(t, 120)
	b := newBatchRefresher(client)
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for _, id := range ids {
		wg.Go(func() {
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
	later, err := em.AddCertificate(batchAccount, "later", true, selfSigned(t, 99), "")
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
