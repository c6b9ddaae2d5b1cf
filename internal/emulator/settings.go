package emulator

import (
	"fmt"
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
