package emulator

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// API Shield's hostname associations: per zone, the hostnames whose client
// certificates a CA verifies. Cloudflare's validation rules and error codes
// for them are unknown; the emulator is strict (validHostname) and uses its
// own codes.

// DefaultHostnameService is the service the associations endpoint names for
// hostname associations unless Options.HostnameService says otherwise; it
// is the emulator's guess. Their status is "active", also during
// Options.HostnameLag, so a client cannot tell when the lag ends.
const DefaultHostnameService = "api_shield"

// hostnamesResult answers both hostname association routes.
type hostnamesResult struct {
	Hostnames []string `json:"hostnames"`
}

// hostnamesRequest is the PUT body; an empty or absent mtls_certificate_id
// means Cloudflare's managed CA.
type hostnamesRequest struct {
	Hostnames         *[]string `json:"hostnames"`
	MTLSCertificateID string    `json:"mtls_certificate_id"`
}

// handleHostnamesGet answers the hostnames of the CA named by the
// mtls_certificate_id query parameter, or of the managed CA without one.
func (s *Server) handleHostnamesGet(w http.ResponseWriter, r *http.Request, zoneID string) {
	hostnames, err := s.store.hostnames(zoneID, r.URL.Query().Get("mtls_certificate_id"))
	if err != nil {
		writeError(w, hostnamesCAError(err))
		return
	}
	writeResult(w, hostnamesResult{Hostnames: hostnames}, nil)
}

func (s *Server) handleHostnamesPut(w http.ResponseWriter, r *http.Request, zoneID string) {
	var req hostnamesRequest
	if apiErr := decodeBody(w, r, &req); apiErr != nil {
		writeError(w, apiErr)
		return
	}
	if req.Hostnames == nil {
		writeError(w, newError(http.StatusBadRequest, CodeMissingField,
			`hostnames is required: a list such as ["api.example.com"], or [] to remove them all`))
		return
	}
	hostnames := slices.Clone(*req.Hostnames)
	for i, h := range hostnames {
		if !validHostname(h) {
			writeError(w, newError(http.StatusBadRequest, CodeInvalidHostname,
				`hostnames[%d] %q is not a lowercase DNS name such as "api.example.com" (no scheme, port, path or spaces)`, i, h))
			return
		}
	}
	// Answered sorted and without repeats: Cloudflare's order is unknown,
	// so a client must compare hostnames as a set.
	slices.Sort(hostnames)
	hostnames = slices.Compact(hostnames)
	lag := s.currentSettings().hostnameLag
	if err := s.store.replaceHostnames(zoneID, req.MTLSCertificateID, hostnames, s.opts.Now().Add(lag)); err != nil {
		writeError(w, hostnamesCAError(err))
		return
	}
	writeResult(w, hostnamesResult{Hostnames: hostnames}, nil)
}

func hostnamesCAError(err error) *Error {
	if errors.Is(err, errNotCA) {
		return newError(http.StatusBadRequest, CodeNotCA,
			"The certificate is not a CA; only a CA certificate can verify client certificates for hostnames")
	}
	return certificateNotFound()
}

// validHostname accepts a lowercase DNS name of two labels or more, with an
// optional "*." wildcard in front.
func validHostname(h string) bool {
	h = strings.TrimPrefix(h, "*.")
	labels := strings.Split(h, ".")
	if len(h) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}

// checkCALocked finds a certificate by id in any account and reports
// errNotFound, errNotCA or nil; "" is the managed CA, always there.
func (st *store) checkCALocked(certID string) error {
	if certID == "" {
		return nil
	}
	for _, a := range st.accounts {
		if i := slices.IndexFunc(a.certs, func(c *Certificate) bool { return c.ID == certID }); i >= 0 {
			if !a.certs[i].CA {
				return errNotCA
			}
			return nil
		}
	}
	return errNotFound
}

func (st *store) hostnames(zoneID, certID string) ([]string, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.checkCALocked(certID); err != nil {
		return nil, err
	}
	return append([]string{}, st.zones[zoneID][certID]...), nil
}

// replaceHostnames sets a CA's hostnames in a zone; hostnames is sorted.
// When that removes the CA's last hostnames in any zone, it stays in use
// until releaseAt.
func (st *store) replaceHostnames(zoneID, certID string, hostnames []string, releaseAt time.Time) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.checkCALocked(certID); err != nil {
		return err
	}
	had, before := st.hasHostnamesLocked(certID), st.zones[zoneID][certID]
	zone := st.zones[zoneID]
	if zone == nil {
		zone = map[string][]string{}
		st.zones[zoneID] = zone
	}
	if len(hostnames) == 0 {
		delete(zone, certID)
	} else {
		zone[certID] = slices.Clone(hostnames)
	}
	if certID != "" && had && !st.hasHostnamesLocked(certID) {
		st.inUseUntil[certID] = releaseAt
	}
	st.auditCoverageLocked(zoneID, before)
	st.auditCoverageLocked(zoneID, hostnames)
	return nil
}

// auditCoverageLocked records how many CAs of a zone now cover each of
// hostnames. The lag plays no part: a CA that lost a hostname no longer
// covers it, whatever the associations endpoint still says.
func (st *store) auditCoverageLocked(zoneID string, hostnames []string) {
	for _, h := range hostnames {
		n := 0
		for _, covered := range st.zones[zoneID] {
			if _, found := slices.BinarySearch(covered, h); found {
				n++
			}
		}
		key := zoneID + "/" + h
		if fewest, seen := st.fewest[key]; seen {
			st.fewest[key] = min(fewest, n)
		} else if n > 0 {
			st.fewest[key] = n
		}
	}
}

func (st *store) hasHostnamesLocked(certID string) bool {
	for _, zone := range st.zones {
		if len(zone[certID]) > 0 {
			return true
		}
	}
	return false
}

// hostnamesInUseLocked reports whether a CA's hostname associations, or
// the lag after their removal, make it in use at now.
func (st *store) hostnamesInUseLocked(certID string, now time.Time) bool {
	return st.hasHostnamesLocked(certID) || now.Before(st.inUseUntil[certID])
}

// Coverage audits hostname associations: for each hostname ever associated
// in a zone, keyed "zone_id/hostname", the fewest CAs (the managed CA
// included) that covered it at any moment since it was first covered. 0
// means it was left without a CA at some point, as when a rotation removes
// the old CA before the new one is associated. Reset clears it.
func (s *Server) Coverage() map[string]int {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	return maps.Clone(s.store.fewest)
}
