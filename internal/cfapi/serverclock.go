package cfapi

import "time"

// ClockOffset bounds the server's clock minus this machine's: the server's
// time is between local time + Min and local time + Max.
type ClockOffset struct{ Min, Max time.Duration }

// ServerClockOffset measures the server's clock from the Date headers of
// answered attempts: a Date names the second in which the server answered,
// which was between the attempt's sending and its answer's arrival here.
// Each such attempt bounds the offset; the bounds of all of them together
// are the narrowest. ok is false when no attempt had a Date, or when the
// bounds contradict each other (a clock jumped), since neither measures
// anything.
func ServerClockOffset(attempts []Attempt) (offset ClockOffset, ok bool) {
	for _, a := range attempts {
		if a.ServerDate.IsZero() || a.Answered.IsZero() || a.Sent.IsZero() {
			continue
		}
		lo := a.ServerDate.Sub(a.Answered)
		hi := a.ServerDate.Add(time.Second).Sub(a.Sent)
		if !ok {
			offset, ok = ClockOffset{Min: lo, Max: hi}, true
			continue
		}
		offset.Min, offset.Max = max(offset.Min, lo), min(offset.Max, hi)
	}
	if ok && offset.Min > offset.Max {
		return ClockOffset{}, false
	}
	return offset, ok
}
