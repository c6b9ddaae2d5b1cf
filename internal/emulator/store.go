package emulator

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Association is one Cloudflare service that uses a certificate, as the
// associations endpoint reports it.
type Association struct {
	Service string `json:"service"`
	Status  string `json:"status"`
}

var (
	errNotFound  = errors.New("certificate not found")
	errDuplicate = errors.New("certificate already exists")
	errInUse     = errors.New("certificate is in use")
	errCALimit   = errors.New("the account holds its quota of CA certificates")
	errNotCA     = errors.New("certificate is not a CA")
)

// store is the emulator's state: accounts spring into existence, empty, the
// first time they are used, as any valid account id is accepted.
type store struct {
	mu              sync.Mutex
	accounts        map[string]*account
	allowDuplicates bool
	// zones holds hostname associations: by zone id, then certificate id
	// ("" for Cloudflare's managed CA), sorted hostnames. Zones belong to
	// no account: certificate ids are unique across accounts.
	zones map[string]map[string][]string
	// inUseUntil is when a CA whose hostnames were all removed stops being
	// in use (Options.HostnameLag).
	inUseUntil map[string]time.Time
	// fewest is the coverage audit: for each "zone/hostname" ever covered,
	// the fewest CAs that covered it at once since.
	fewest map[string]int
}

type account struct {
	// certs is in upload order, which is the order lists are paged in.
	certs []*Certificate
	// associations are keyed by certificate id. They are kept apart from
	// certs so a test can set them before or regardless of an upload.
	associations map[string][]Association
}

func newStore(allowDuplicates bool) *store {
	return &store{accounts: map[string]*account{}, allowDuplicates: allowDuplicates,
		zones: map[string]map[string][]string{}, inUseUntil: map[string]time.Time{}, fewest: map[string]int{}}
}

// accountLocked returns the account, creating it when create is set; the
// caller holds st.mu.
func (st *store) accountLocked(id string, create bool) *account {
	a := st.accounts[id]
	if a == nil && create {
		a = &account{associations: map[string][]Association{}}
		st.accounts[id] = a
	}
	return a
}

// locateLocked finds a certificate: its account and index, or errNotFound.
// The caller holds st.mu.
func (st *store) locateLocked(accountID, certID string) (*account, int, error) {
	a := st.accountLocked(accountID, false)
	if a == nil {
		return nil, -1, errNotFound
	}
	i := slices.IndexFunc(a.certs, func(c *Certificate) bool { return c.ID == certID })
	if i < 0 {
		return nil, -1, errNotFound
	}
	return a, i, nil
}

// insert stores c unless the account already holds the same certificates,
// compared as a DER sequence so re-encoded PEM of the same bundle is still a
// duplicate, or c is a CA and the account holds caLimit CAs already (0 means
// no limit). Checking and storing under one lock keeps concurrent uploads
// from both succeeding.
func (st *store) insert(accountID string, c *Certificate, caLimit int) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	a := st.accountLocked(accountID, true)
	cas := 0
	for _, existing := range a.certs {
		if !st.allowDuplicates && slices.EqualFunc(existing.DER, c.DER, bytes.Equal) {
			return errDuplicate
		}
		// Access keeps its CAs apart from the quota, as Cloudflare does.
		if existing.CA && existing.Type != TypeAccessManaged {
			cas++
		}
	}
	if c.CA && caLimit > 0 && cas >= caLimit {
		return errCALimit
	}
	a.certs = append(a.certs, c)
	return nil
}

func (st *store) get(accountID, certID string) (Certificate, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	a, i, err := st.locateLocked(accountID, certID)
	if err != nil {
		return Certificate{}, err
	}
	return a.certs[i].clone(), nil
}

// list returns the account's certificates whose type is in types, or all of
// them when types is empty.
func (st *store) list(accountID string, types []string) []Certificate {
	st.mu.Lock()
	defer st.mu.Unlock()
	a := st.accountLocked(accountID, false)
	if a == nil {
		return nil
	}
	out := make([]Certificate, 0, len(a.certs))
	for _, c := range a.certs {
		if len(types) == 0 || slices.Contains(types, c.Type) {
			out = append(out, c.clone())
		}
	}
	return out
}

// deleteUnlessInUse mirrors the API's promise: the certificate goes away
// only when no service uses it, hostname associations included.
func (st *store) deleteUnlessInUse(accountID, certID string, now time.Time) (Certificate, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	a, i, err := st.locateLocked(accountID, certID)
	if err != nil {
		return Certificate{}, err
	}
	if len(a.associations[certID]) > 0 || st.hostnamesInUseLocked(certID, now) {
		return Certificate{}, errInUse
	}
	deleted := a.certs[i]
	a.certs = slices.Delete(a.certs, i, i+1)
	delete(a.associations, certID)
	delete(st.inUseUntil, certID)
	return deleted.clone(), nil
}

// associations lists the associations a test set, then one named
// hostnameService while the CA's hostnames make it in use at now.
func (st *store) associations(accountID, certID string, now time.Time, hostnameService string) ([]Association, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	a, _, err := st.locateLocked(accountID, certID)
	if err != nil {
		return nil, err
	}
	assoc := slices.Clone(a.associations[certID])
	if st.hostnamesInUseLocked(certID, now) {
		assoc = append(assoc, Association{Service: hostnameService, Status: "active"})
	}
	return assoc, nil
}

func (st *store) setAssociations(accountID, certID string, assoc []Association) {
	st.mu.Lock()
	defer st.mu.Unlock()
	a := st.accountLocked(accountID, true)
	if len(assoc) == 0 {
		delete(a.associations, certID)
		return
	}
	a.associations[certID] = slices.Clone(assoc)
}

// setExistingAssociations is setAssociations for a certificate that must
// exist: errNotFound otherwise.
func (st *store) setExistingAssociations(accountID, certID string, assoc []Association) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	a, _, err := st.locateLocked(accountID, certID)
	if err != nil {
		return err
	}
	if len(assoc) == 0 {
		delete(a.associations, certID)
		return nil
	}
	a.associations[certID] = slices.Clone(assoc)
	return nil
}

func (st *store) clearAssociations() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, a := range st.accounts {
		clear(a.associations)
	}
}

func (st *store) count(accountID string) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	if a := st.accountLocked(accountID, false); a != nil {
		return len(a.certs)
	}
	return 0
}

func (st *store) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	clear(st.accounts)
	clear(st.zones)
	clear(st.inUseUntil)
	clear(st.fewest)
}

// Certificates returns a snapshot of an account's certificates in upload
// order, private keys included.
func (s *Server) Certificates(accountID string) []Certificate {
	return s.store.list(accountID, nil)
}

// CertificateCount is the number of certificates stored in an account.
func (s *Server) CertificateCount(accountID string) int {
	return s.store.count(accountID)
}

// AddCertificate seeds a certificate without HTTP, for instance a
// gateway_managed one no client could upload. It applies the upload's
// checks (PEM, duplicates) but not the CA quota, so a test can fill an
// account past it, and returns an *Error when one fails; typ "" means
// TypeCustom.
func (s *Server) AddCertificate(accountID, name string, ca bool, pemText, typ string) (Certificate, error) {
	if !validIdentifier(accountID) {
		return Certificate{}, invalidIdentifier(accountID)
	}
	if typ == "" {
		typ = TypeCustom
	}
	if !validType(typ) {
		return Certificate{}, newError(http.StatusBadRequest, CodeInvalidRequestBody, "unknown certificate type %q", typ)
	}
	c, apiErr := s.newCertificate(name, ca, pemText, nil, typ)
	if apiErr != nil {
		return Certificate{}, apiErr
	}
	if err := s.store.insert(accountID, c, 0); err != nil {
		return Certificate{}, duplicateCertificate()
	}
	return c.clone(), nil
}

// SetAssociations records which services use a certificate; a non-empty
// list makes DELETE refuse it. An empty list removes the associations. It
// cancels a drain the control API scheduled for the certificate.
func (s *Server) SetAssociations(accountID, certID string, assoc []Association) {
	s.drainMu.Lock()
	defer s.drainMu.Unlock()
	s.cancelDrainLocked(drainKey{accountID, certID})
	s.store.setAssociations(accountID, certID, assoc)
}

// ClearAssociations removes the associations of every certificate in every
// account, and cancels the drains the control API scheduled. Hostname
// associations are API state and stay.
func (s *Server) ClearAssociations() {
	s.cancelDrains()
	s.store.clearAssociations()
}

// Rename changes a stored certificate's name, as a change made outside
// Terraform would (the API itself cannot rename), so tests can make drift.
// It reports whether the certificate exists.
func (s *Server) Rename(accountID, certID, name string) bool {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	a, i, err := s.store.locateLocked(accountID, certID)
	if err != nil {
		return false
	}
	a.certs[i].Name = name
	return true
}
