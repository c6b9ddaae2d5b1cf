package cfapi_test

import (
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

func TestServerClockOffset(t *testing.T) {
	local := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return local.Add(time.Duration(ms) * time.Millisecond) }
	// A server 10 minutes ahead, answering 100 ms after each request was sent.
	ahead := 10 * time.Minute
	answered := func(sentMS int) cfapi.Attempt {
		sent := at(sentMS)
		return cfapi.Attempt{Sent: sent, Answered: sent.Add(100 * time.Millisecond),
			ServerDate: sent.Add(ahead + 50*time.Millisecond).Truncate(time.Second)}
	}
	for _, tc := range []struct {
		name     string
		attempts []cfapi.Attempt
		ok       bool
		min, max time.Duration
	}{
		{"none", nil, false, 0, 0},
		{"no Date header", []cfapi.Attempt{{Sent: at(0), Answered: at(100)}}, false, 0, 0},
		{"no answer", []cfapi.Attempt{{Sent: at(0)}}, false, 0, 0},
		// Date 12:10:00 names [12:10:00, 12:10:01), answered in local [0, 100 ms].
		{"one answer", []cfapi.Attempt{answered(0)}, true, ahead - 100*time.Millisecond, ahead + time.Second},
		// A second answer, whose Date has ticked over, narrows the bounds.
		{"two answers", []cfapi.Attempt{answered(0), answered(960)}, true, ahead - 60*time.Millisecond, ahead + time.Second},
		{"unanswered attempts are skipped", []cfapi.Attempt{{Sent: at(0)}, answered(0)}, true, ahead - 100*time.Millisecond, ahead + time.Second},
		// Dates that cannot both be true (the server's clock jumped back).
		{"contradictory", []cfapi.Attempt{answered(0), {Sent: at(2000), Answered: at(2100), ServerDate: local.Add(-time.Hour)}}, false, 0, 0},
	} {
		got, ok := cfapi.ServerClockOffset(tc.attempts)
		if ok != tc.ok || ok && (got.Min != tc.min || got.Max != tc.max) {
			t.Errorf("%s: ServerClockOffset = %+v, %t; want {Min:%v Max:%v}, %t", tc.name, got, ok, tc.min, tc.max, tc.ok)
		}
	}
}
