package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// settings are the options the control API can change while the emulator
// runs, so a test driving the emulator from outside its process can set
// them too.
type settings struct {
	caLimit         int
	caLimitStatus   int
	hostnameService string
	hostnameLag     time.Duration
}

func (o Options) settings() settings {
	return settings{caLimit: o.CALimit, caLimitStatus: o.CALimitStatus,
		hostnameService: o.HostnameService, hostnameLag: o.HostnameLag}
}

func (st settings) validate() error {
	if st.caLimit < 0 {
		return fmt.Errorf("CALimit %d is negative; 0 turns the quota off", st.caLimit)
	}
	if st.caLimitStatus != 0 && (st.caLimitStatus < 400 || st.caLimitStatus > 499) {
		return fmt.Errorf("CALimitStatus %d is not a 4XX status", st.caLimitStatus)
	}
	if st.hostnameService != strings.TrimSpace(st.hostnameService) {
		return fmt.Errorf("HostnameService %q has spaces around it", st.hostnameService)
	}
	if st.hostnameLag < 0 {
		return fmt.Errorf("HostnameLag must not be negative")
	}
	return nil
}

func (st settings) withDefaults() settings {
	if st.caLimitStatus == 0 {
		st.caLimitStatus = DefaultCALimitStatus
	}
	if st.hostnameService == "" {
		st.hostnameService = DefaultHostnameService
	}
	return st
}

// currentSettings returns a copy of the settings in force.
func (s *Server) currentSettings() settings {
	s.settingsMu.Lock()
	defer s.settingsMu.Unlock()
	return s.settings
}

func caLimitReached(status int) *Error {
	return &Error{Status: status, Code: CodeCALimit, Message: MessageCALimit}
}

// settingsJSON is the control API's form of the settings; a PATCH sets the
// fields it carries. 0 and "" mean the default, as in Options.
type settingsJSON struct {
	CALimit         *int    `json:"ca_limit"`
	CALimitStatus   *int    `json:"ca_limit_status"`
	HostnameService *string `json:"hostname_service"`
	// HostnameLag is a Go duration such as "30s".
	HostnameLag *string `json:"hostname_lag"`
}

func (s *Server) controlSettings(w http.ResponseWriter, r *http.Request) {
	var req settingsJSON
	if r.Method == http.MethodPatch {
		// Read before locking, so a slow client cannot hold up the API.
		if apiErr := decodeControl(w, r, &req); apiErr != nil {
			writeError(w, apiErr)
			return
		}
	}
	s.settingsMu.Lock()
	defer s.settingsMu.Unlock()
	if r.Method == http.MethodPatch {
		next := s.settings
		if req.CALimit != nil {
			next.caLimit = *req.CALimit
		}
		if req.CALimitStatus != nil {
			next.caLimitStatus = *req.CALimitStatus
		}
		if req.HostnameService != nil {
			next.hostnameService = *req.HostnameService
		}
		if req.HostnameLag != nil {
			lag, apiErr := parseControlDuration("hostname_lag", *req.HostnameLag)
			if apiErr != nil {
				writeError(w, apiErr)
				return
			}
			next.hostnameLag = lag
		}
		if err := next.validate(); err != nil {
			writeError(w, newError(http.StatusBadRequest, CodeInvalidRequestBody, "%s", err))
			return
		}
		s.settings = next.withDefaults()
	}
	st := s.settings
	lag := st.hostnameLag.String()
	writeResult(w, settingsJSON{CALimit: &st.caLimit, CALimitStatus: &st.caLimitStatus,
		HostnameService: &st.hostnameService, HostnameLag: &lag}, nil)
}
