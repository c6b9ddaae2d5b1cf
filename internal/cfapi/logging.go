package cfapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloudflare/cloudflare-go/v7/option"
)

// secretBodyFields are JSON fields whose values never reach a log.
var secretBodyFields = []string{"private_key"}

// maxLoggedBody bounds how much of a body is logged; certificate bundles can
// be large and add nothing to a debug log past this point.
const maxLoggedBody = 8 << 10

// requestLogger records each HTTP exchange at debug level. Headers are not
// logged at all (they carry the token or key), secret fields of JSON bodies
// are replaced before logging, and the credentials themselves are masked in
// every message and field as a second line of defense.
type requestLogger struct {
	secrets []string
}

func newRequestLogger(cfg Config) *requestLogger {
	l := &requestLogger{}
	for _, s := range []string{cfg.APIToken, cfg.APIKey} {
		if s != "" {
			l.secrets = append(l.secrets, s)
		}
	}
	return l
}

func (l *requestLogger) middleware(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	ctx := tflog.MaskAllFieldValuesStrings(req.Context(), l.secrets...)
	ctx = tflog.MaskMessageStrings(ctx, l.secrets...)
	fields := map[string]any{
		"http_method": req.Method,
		"http_url":    redactedURL(req.URL),
	}
	if req.GetBody != nil {
		if body, err := req.GetBody(); err == nil {
			raw, _ := io.ReadAll(io.LimitReader(body, maxLoggedBody+1))
			_ = body.Close()
			fields["http_request_body"] = redactBody(raw)
		}
	}
	tflog.Debug(ctx, "Sending Cloudflare API request", fields)

	start := time.Now()
	res, err := next(req)
	fields["duration_ms"] = time.Since(start).Milliseconds()
	delete(fields, "http_request_body")
	if err != nil {
		fields["error"] = err.Error()
		tflog.Debug(ctx, "Cloudflare API request failed", fields)
		return res, err
	}
	fields["http_status"] = res.StatusCode
	if res.Body != nil {
		raw, readErr := io.ReadAll(res.Body)
		_ = res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(raw))
		if readErr == nil {
			fields["http_response_body"] = redactBody(raw)
		}
	}
	tflog.Debug(ctx, "Received Cloudflare API response", fields)
	return res, nil
}

// redactBody returns body as text with secret fields masked, or a
// placeholder when it is not JSON we can safely inspect.
func redactBody(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	if len(raw) > maxLoggedBody {
		return "[body of more than 8 KiB not logged]"
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return "[non-JSON body not logged]"
	}
	redactValue(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		return "[body not logged]"
	}
	return string(out)
}

func redactValue(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, inner := range t {
			if isSecretField(k) {
				t[k] = "[REDACTED]"
				continue
			}
			redactValue(inner)
		}
	case []any:
		for _, inner := range t {
			redactValue(inner)
		}
	}
}

func isSecretField(name string) bool {
	for _, s := range secretBodyFields {
		if name == s {
			return true
		}
	}
	return false
}
