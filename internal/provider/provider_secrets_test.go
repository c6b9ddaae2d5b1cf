package provider_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/fixtures"
	"github.com/tf-mtls/terraform-provider-mtls/internal/provider"
)

// readCLILog is the log TF_LOG_PATH gave the CLI and, through it, the
// provider binary.
func readCLILog(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file) //nolint:gosec // G304: the log file the test chose.
	if err != nil {
		t.Fatalf("reading the CLI log: %v", err)
	}
	return string(b)
}

// TestAccProvider_baseURLUserinfoHidden: a proxy's user name and password
// in base_url never reach the CLI's output or its DEBUG log (with the
// provider's own lines), whether the URL is accepted or refused at plan,
// from the configuration or from CLOUDFLARE_BASE_URL; the host does.
func TestAccProvider_baseURLUserinfoHidden(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	const user, password = "proxyuser0c7d", "pw3e91b5a"
	withUserinfo := func(base string) string {
		return strings.Replace(base, "://", "://"+user+":"+password+"@", 1)
	}
	// hide keeps the userinfo out of this test's own failure messages.
	hide := strings.NewReplacer(user, "<user>", password, "<password>").Replace
	ws := acctest.NewBinaryWorkspace(t)
	ws.Setenv(provider.EnvAPIToken, env.Token)
	ws.Setenv(provider.EnvAccountID, env.AccountID)
	// From a variable: the CLI quotes the configuration line of an error, and
	// a literal URL there would show the password whatever the provider does.
	fromVariable := requiredProviders(ws) + "variable \"base_url\" {\n  type = string\n}\n" +
		"provider \"mtls\" {\n  base_url = var.base_url\n}\n" + "data \"mtls_certificates\" \"all\" {}\n"
	logDir := t.TempDir()
	plan := func(step string) (acctest.Result, string) {
		logFile := filepath.Join(logDir, step+".log")
		ws.Setenv("TF_LOG", "DEBUG")
		ws.Setenv("TF_LOG_PATH", logFile)
		env.Emulator.ResetCounts()
		r := ws.Run("plan", "-json", "-input=false", "-no-color")
		logs := readCLILog(t, logFile)
		for _, secret := range []string{password, user} {
			if shown := r.Stdout + r.Stderr + logs; strings.Contains(shown, secret) {
				t.Errorf("%s: the base URL's userinfo (%d characters) appears in the CLI's output or log: %.300s",
					step, len(secret), hide(firstLine(shown, secret)))
			}
		}
		return r, logs
	}

	// Accepted: a loopback URL reaches the emulator, and the log names it.
	ws.SetConfig(fromVariable)
	ws.Setenv("TF_VAR_base_url", withUserinfo(env.Emulator.URL()))
	r, logs := plan("accepted")
	if r.ExitCode != 0 {
		t.Fatalf("the plan with userinfo in a loopback base_url failed (exit %d): %s", r.ExitCode, hide(fmt.Sprint(r.Errors())))
	}
	if len(env.Emulator.RequestCounts()) == 0 {
		t.Error("the plan sent no request: the logs below prove nothing")
	}
	host := strings.TrimPrefix(env.Emulator.URL(), "http://")
	// Terraform 1.5 writes the provider's fields unquoted, later CLIs quoted.
	for _, want := range []string{"Configured the mtls provider", `base_url="?http://xxxxx@` + regexp.QuoteMeta(host),
		`http_url="?http://xxxxx@` + regexp.QuoteMeta(host)} {
		if !regexp.MustCompile(want).MatchString(logs) {
			t.Errorf("accepted: the DEBUG log has no line matching %q", want)
		}
	}

	// Refused at plan: http to a remote host, from the configuration and
	// from the environment, on base_url and with no request sent.
	remote := withUserinfo("http://api.example.com/client/v4")
	for step, setup := range map[string]func(){
		"refused from base_url": func() {
			ws.SetConfig(fromVariable)
			ws.Setenv("TF_VAR_base_url", remote)
		},
		"refused from " + provider.EnvBaseURL: func() {
			ws.SetConfig(requiredProviders(ws) + "provider \"mtls\" {}\n" + "data \"mtls_certificates\" \"all\" {}\n")
			ws.Setenv(provider.EnvBaseURL, remote)
		},
	} {
		setup()
		r, _ := plan(strings.ReplaceAll(step, " ", "-"))
		errs := r.Errors()
		if r.ExitCode == 0 || len(errs) != 1 || errs[0].Summary != "Invalid Cloudflare API Base URL" ||
			!strings.Contains(errs[0].Detail, "http://xxxxx@api.example.com/client/v4") {
			t.Errorf("%s: want one error \"Invalid Cloudflare API Base URL\" naming the host with its userinfo replaced, got exit %d: %+v",
				step, r.ExitCode, hide(fmt.Sprint(errs)))
		}
		if len(errs) == 1 && step == "refused from base_url" && !strings.Contains(errs[0].Code, "base_url") {
			t.Errorf("%s: the error points at %q, not at base_url", step, hide(errs[0].Code))
		}
		if counts := env.Emulator.RequestCounts(); len(counts) != 0 {
			t.Errorf("%s: the provider sent requests %v", step, counts)
		}
	}
}

// TestAccProvider_flawedCredentialRefusedAtPlan: a credential with a final
// line break, read by file() or from the environment, and an api_token set
// to "", fail the plan on their attribute before any request, and no
// output of the CLI quotes the credential.
func TestAccProvider_flawedCredentialRefusedAtPlan(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	const data = "data \"mtls_certificates\" \"all\" {}\n"
	cases := []struct {
		name      string
		setup     func(ws *acctest.Workspace) string // the provider block
		attribute string
		want      []string
	}{
		{
			name: "api_token = file() with a final newline",
			setup: func(ws *acctest.Workspace) string {
				ws.WriteFile("token.txt", env.Token+"\n")
				return "provider \"mtls\" {\n  api_token = file(\"token.txt\")\n}\n"
			},
			attribute: "api_token",
			want:      []string{"Invalid Cloudflare API Token", "api_token ends with a line break", "trimspace("},
		},
		{
			name: "api_key = file() with a final CRLF",
			setup: func(ws *acctest.Workspace) string {
				ws.WriteFile("key.txt", env.Key+"\r\n")
				return fmt.Sprintf("provider \"mtls\" {\n  api_key   = file(\"key.txt\")\n  api_email = %q\n}\n", env.Email)
			},
			attribute: "api_key",
			want:      []string{"Invalid Cloudflare API Key", "api_key ends with a line break", "trimspace("},
		},
		{
			name: provider.EnvAPIToken + " with a final newline",
			setup: func(ws *acctest.Workspace) string {
				ws.Setenv(provider.EnvAPIToken, env.Token+"\n")
				return "provider \"mtls\" {}\n"
			},
			attribute: "api_token",
			want:      []string{"Invalid Cloudflare API Token", "The " + provider.EnvAPIToken + " environment variable ends with a line break", "trimspace("},
		},
		{
			// Before, "" fell back to CLOUDFLARE_API_TOKEN and the plan ran.
			name: "api_token = \"\" beside " + provider.EnvAPIToken,
			setup: func(ws *acctest.Workspace) string {
				ws.Setenv(provider.EnvAPIToken, env.Token)
				return "provider \"mtls\" {\n  api_token = \"\"\n}\n"
			},
			attribute: "api_token",
			want:      []string{"Invalid Cloudflare API Token", "api_token is set to an empty string", "Remove the argument"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := acctest.NewBinaryWorkspace(t)
			ws.Setenv(provider.EnvBaseURL, env.Emulator.URL())
			ws.Setenv(provider.EnvAccountID, env.AccountID)
			ws.SetConfig(requiredProviders(ws) + tc.setup(ws) + data)
			env.Emulator.ResetCounts()
			r := ws.Run("plan", "-json", "-input=false", "-no-color")
			for _, secret := range []string{env.Token, env.Key} {
				if strings.Contains(r.Stdout+r.Stderr, secret) {
					t.Errorf("the CLI's output quotes a credential (%d characters)", len(secret))
				}
			}
			errs := r.Errors()
			if r.ExitCode == 0 || len(errs) != 1 {
				t.Fatalf("want the plan to fail with one error, got exit %d and %d errors: %v", r.ExitCode, len(errs), errorSummaries(errs))
			}
			text := errs[0].Summary + "\n" + errs[0].Detail
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("the error does not say %q:\n%s", w, text)
				}
			}
			// Set from the environment, the attribute is not in the block:
			// the CLI then points at the block.
			at := tc.attribute
			if strings.HasPrefix(tc.name, "CLOUDFLARE_") {
				at = "provider \"mtls\""
			}
			if !strings.Contains(errs[0].Code, at) {
				t.Errorf("the error points at %q, not at %s", errs[0].Code, at)
			}
			if counts := env.Emulator.RequestCounts(); len(counts) != 0 {
				t.Errorf("the provider sent requests %v", counts)
			}
		})
	}
}

// TestAccProvider_flawedCredentialKnownAtApply: a token that comes from a
// resource is unknown at plan, so the plan passes; the apply refuses it,
// once known, before the provider sends any request.
func TestAccProvider_flawedCredentialKnownAtApply(t *testing.T) {
	t.Parallel()
	acctest.RequireCLI(t, acctest.TerraformData)
	env := acctest.New(t)
	env.RequireEmulator(t)
	ws := acctest.NewBinaryWorkspace(t)
	ws.Setenv(provider.EnvBaseURL, env.Emulator.URL())
	ws.Setenv(provider.EnvAccountID, env.AccountID)
	ws.WriteFile("token.txt", env.Token+"\n")
	ws.WriteFile("ca.pem", fixtures.Read("ca-cert.pem"))
	ws.SetConfig(requiredProviders(ws) + `
resource "terraform_data" "token" {
  input = file("token.txt")
}

provider "mtls" {
  api_token = terraform_data.token.output
}

resource "mtls_certificate" "ca" {
  ca           = true
  certificates = file("ca.pem")
}
`)
	r := ws.Run("apply", "-json", "-auto-approve", "-input=false", "-no-color")
	if strings.Contains(r.Stdout+r.Stderr, env.Token) {
		t.Error("the CLI's output quotes the token")
	}
	errs := r.Errors()
	if r.ExitCode == 0 || len(errs) != 1 || errs[0].Summary != "Invalid Cloudflare API Token" ||
		!strings.Contains(errs[0].Detail, "api_token ends with a line break") || !strings.Contains(errs[0].Code, "api_token") {
		t.Fatalf("want the apply to fail with one error on api_token, got exit %d: %v", r.ExitCode, errorSummaries(errs))
	}
	if counts := env.Emulator.RequestCounts(); len(counts) != 0 {
		t.Errorf("the provider sent requests %v", counts)
	}
}

func errorSummaries(errs []acctest.Diagnostic) []string {
	var out []string
	for _, d := range errs {
		out = append(out, d.Summary)
	}
	return out
}
