package provider

import (
	"context"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/tf-mtls/terraform-provider-mtls/internal/fixtures"
)

// directPair is a server with the direct path and one without, configured
// alike.
type directPair struct {
	direct, framework tfprotov6.ProviderServer
	counter           *certificateDirect
	typ               tftypes.Object
	identityTyp       tftypes.Type
}

func newDirectPair(t *testing.T, providerConfig map[string]tftypes.Value) *directPair {
	t.Helper()
	p := &directPair{
		direct:    NewProtocol6Server("test", WithoutLogs())(),
		framework: NewProtocol6Server("test", WithoutLogs(), withFrameworkOnly())(),
	}
	crs, ok := p.direct.(*contextReleasingServer)
	if !ok || crs.direct == nil {
		t.Fatal("the server has no direct path: newCertificateDirect turned it off for this schema")
	}
	p.counter = crs.direct
	p.typ, p.identityTyp = crs.direct.typ, crs.direct.identityTyp
	if providerConfig == nil {
		return p // not configured: as in a validate walk
	}
	ctx := context.Background()
	for _, s := range []tfprotov6.ProviderServer{p.direct, p.framework} {
		schemas, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
		if err != nil {
			t.Fatal(err)
		}
		typ := schemas.Provider.ValueType()
		resp, err := s.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{
			TerraformVersion: "1.12.2",
			Config:           dynamicValue(t, typ, objectWith(t, typ, providerConfig)),
		})
		if err != nil || len(resp.Diagnostics) > 0 {
			t.Fatalf("ConfigureProvider: %v %v", err, resp.Diagnostics)
		}
	}
	return p
}

// normalized makes two answers comparable: the framework visits attributes
// in map order, so diagnostics come in any order, and an empty list may be
// nil or not.
func normalized(diags []*tfprotov6.Diagnostic) []string {
	var out []string
	for _, d := range diags {
		p := ""
		if d.Attribute != nil {
			p = d.Attribute.String()
		}
		out = append(out, fmt.Sprintf("%v|%s|%s|%s", d.Severity, d.Summary, d.Detail, p))
	}
	sort.Strings(out)
	return out
}

func dvString(dv *tfprotov6.DynamicValue) string {
	if dv == nil {
		return "<nil>"
	}
	return fmt.Sprintf("msgpack=%x json=%s", dv.MsgPack, dv.JSON)
}

func samePlanAnswers(t *testing.T, what string, got, want *tfprotov6.PlanResourceChangeResponse) {
	t.Helper()
	type flat struct {
		State, Identity, Private string
		Replace                  []string
		Diags                    []string
		Deferred                 string
	}
	flatten := func(r *tfprotov6.PlanResourceChangeResponse) flat {
		f := flat{State: dvString(r.PlannedState), Private: fmt.Sprintf("%x", r.PlannedPrivate),
			Diags: normalized(r.Diagnostics), Deferred: fmt.Sprint(r.Deferred)}
		if r.PlannedIdentity != nil {
			f.Identity = dvString(r.PlannedIdentity.IdentityData)
		}
		for _, p := range r.RequiresReplace {
			f.Replace = append(f.Replace, p.String())
		}
		return f
	}
	if g, w := flatten(got), flatten(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s: the direct path answered\n%+v\nthe framework\n%+v", what, g, w)
	}
}

// proposedNew is the CLI's proposed new state for this flat schema: the
// configured values, and the prior values of computed attributes the
// configuration leaves null.
func (p *directPair) proposedNew(prior, config tftypes.Value) tftypes.Value {
	if config.IsNull() {
		return tftypes.NewValue(p.typ, nil)
	}
	var c, pr map[string]tftypes.Value
	_ = config.As(&c)
	if !prior.IsNull() {
		_ = prior.As(&pr)
	}
	for _, name := range p.counter.computed {
		if c[name].IsNull() && pr != nil {
			c[name] = pr[name]
		}
	}
	return tftypes.NewValue(p.typ, c)
}

// applied is a planned state as an apply would record it: every unknown
// value known.
func applied(t *testing.T, planned tftypes.Value, serial int) tftypes.Value {
	t.Helper()
	v, err := tftypes.Transform(planned, func(path *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if v.IsKnown() {
			return v, nil
		}
		switch {
		case v.Type().Is(tftypes.String):
			return tftypes.NewValue(tftypes.String, fmt.Sprintf("applied-%d-%s", serial, path.String())), nil
		case v.Type().Is(tftypes.Number):
			return tftypes.NewValue(tftypes.Number, big.NewFloat(1)), nil
		case v.Type().Is(tftypes.Bool):
			return tftypes.NewValue(tftypes.Bool, true), nil
		}
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// generatedCA is the PEM of a self-signed CA valid from notBefore to notAfter.
func generatedCA(t *testing.T, notBefore, notAfter time.Time) string {
	t.Helper()
	text, _ := selfSignedCA(t, "direct path", 77, notBefore, notAfter)
	return text
}

// newConfiguredDirectPair is a pair configured as make bench configures the
// provider: a token, the emulator's address and the account.
func newConfiguredDirectPair(t *testing.T) *directPair {
	t.Helper()
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	return newDirectPair(t, map[string]tftypes.Value{
		"api_token": str("token"), "base_url": str("http://127.0.0.1:9"), "account_id": str("0123456789abcdef0123456789abcdef"),
	})
}

// TestDirectPath_sameAnswersAsTheFramework sends a server with the direct
// path and one without the same validations and plans (creates, refreshes,
// changes, replacements, destroys; valid and invalid values; unknown ones;
// private state; identities) and requires the same answers, with the
// direct path answering a good share of them itself.
func TestDirectPath_sameAnswersAsTheFramework(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	unknown := tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	null := tftypes.NewValue(tftypes.String, nil)
	leaf, leafKey := fixtures.Read("leaf-cert.pem"), fixtures.Read("leaf-key.pem")
	certificates := []tftypes.Value{
		str(leaf), str(fixtures.Read("leaf-crlf-cert.pem")), str(fixtures.Read("ca-cert.pem")),
		str(fixtures.Read("ca-bundle.pem")), str(fixtures.Read("rsa-genrsa-cert.pem")), str(fixtures.Read("ed25519-cert.pem")),
		str(generatedCA(t, now.Add(-48*time.Hour), now.Add(-time.Hour))),      // expired
		str(generatedCA(t, now.Add(-48*time.Hour), now.Add(10*24*time.Hour))), // expires soon
		str(fixtures.Read("leaf-csr.pem")), str("not a certificate"), str(""), unknown,
		str(strings.ReplaceAll(leaf, "\n", "\r\n") + "\n\n"),
	}
	keys := []tftypes.Value{
		null, null, str(leafKey), str(fixtures.Read("leaf-crlf-key.pem")), str(fixtures.Read("ca-key.pem")),
		str(fixtures.Read("rsa-genrsa-key.pem")), str("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n"), unknown,
	}
	names := []tftypes.Value{null, str(""), str("a"), str("b"), unknown}
	accounts := []tftypes.Value{null, null, str("0123456789abcdef0123456789abcdef"), str("fedcba9876543210fedcba9876543210"), str("not-an-account"), unknown}
	bools := []tftypes.Value{tftypes.NewValue(tftypes.Bool, true), tftypes.NewValue(tftypes.Bool, false), tftypes.NewValue(tftypes.Bool, tftypes.UnknownValue)}
	versions := []tftypes.Value{tftypes.NewValue(tftypes.Number, nil), tftypes.NewValue(tftypes.Number, nil), tftypes.NewValue(tftypes.Number, big.NewFloat(1))}

	setups := []struct {
		name   string
		config map[string]tftypes.Value
	}{
		{"unconfigured (provider values unknown at plan)", nil},
		{"provider account", map[string]tftypes.Value{
			"api_token": str("token"), "base_url": str("http://127.0.0.1:9"), "account_id": str("0123456789abcdef0123456789abcdef"),
		}},
		{"no provider account, warnings within 400 days", map[string]tftypes.Value{
			"api_token": str("token"), "base_url": str("http://127.0.0.1:9"),
			"expiry_warning_days": tftypes.NewValue(tftypes.Number, big.NewFloat(400)),
		}},
	}
	rng := mrand.New(mrand.NewPCG(11, 12)) //nolint:gosec // G404: a seeded generator makes the corpus the same on every run.
	pick := func(vs []tftypes.Value) tftypes.Value { return vs[rng.IntN(len(vs))] }
	for _, setup := range setups {
		t.Run(setup.name, func(t *testing.T) {
			p := newDirectPair(t, setup.config)
			timeoutsTyp := p.typ.AttributeTypes["timeouts"].(tftypes.Object)
			timeouts := func() tftypes.Value {
				switch rng.IntN(6) {
				case 0:
					return tftypes.NewValue(timeoutsTyp, map[string]tftypes.Value{"create": str("5m"), "read": null, "delete": null})
				case 1:
					return tftypes.NewValue(timeoutsTyp, map[string]tftypes.Value{"create": str("soon"), "read": null, "delete": null})
				}
				return tftypes.NewValue(timeoutsTyp, nil)
			}
			// Half of the configurations are ordinary ones, which the direct
			// path should answer; the others take any value.
			randomConfig := func() tftypes.Value {
				vals := map[string]tftypes.Value{}
				vals["account_id"], vals["name"], vals["ca"] = pick(accounts), pick(names), pick(bools)
				vals["certificates"], vals["private_key"] = pick(certificates), pick(keys)
				if rng.IntN(2) == 0 {
					vals["account_id"], vals["certificates"] = pick(accounts[:4]), pick(certificates[:6])
					if vals["private_key"] = null; rng.IntN(2) == 0 {
						vals["certificates"], vals["private_key"] = pick([]tftypes.Value{certificates[0], certificates[1], certificates[12]}), pick(keys[2:4])
					}
					return objectWith(t, p.typ, vals)
				}
				if rng.IntN(5) == 0 {
					vals["private_key_wo"], vals["private_key"] = pick(keys), null
				}
				vals["private_key_wo_version"], vals["timeouts"] = pick(versions), timeouts()
				return objectWith(t, p.typ, vals)
			}
			identity := func(state tftypes.Value) *tfprotov6.ResourceIdentityData {
				var attrs map[string]tftypes.Value
				_ = state.As(&attrs)
				v := tftypes.NewValue(p.identityTyp, map[string]tftypes.Value{"account_id": attrs["account_id"], "id": attrs["id"]})
				return &tfprotov6.ResourceIdentityData{IdentityData: dynamicValue(t, p.identityTyp, v)}
			}
			plan := func(what string, req *tfprotov6.PlanResourceChangeRequest) *tfprotov6.PlanResourceChangeResponse {
				req.TypeName = certificateTypeName
				req.ClientCapabilities = &tfprotov6.PlanResourceChangeClientCapabilities{DeferralAllowed: true}
				copyOf := *req
				got, err := p.direct.PlanResourceChange(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				want, err := p.framework.PlanResourceChange(ctx, &copyOf)
				if err != nil {
					t.Fatal(err)
				}
				samePlanAnswers(t, what, got, want)
				return want
			}
			nullState := tftypes.NewValue(p.typ, nil)
			var validations, plans int64
			for i := range 400 {
				config := randomConfig()
				what := fmt.Sprintf("case %d", i)
				for _, writeOnly := range []bool{true, false} {
					req := &tfprotov6.ValidateResourceConfigRequest{
						TypeName: certificateTypeName, Config: dynamicValue(t, p.typ, config),
						ClientCapabilities: &tfprotov6.ValidateResourceConfigClientCapabilities{WriteOnlyAttributesAllowed: writeOnly},
					}
					got, err := p.direct.ValidateResourceConfig(ctx, req)
					if err != nil {
						t.Fatal(err)
					}
					want, err := p.framework.ValidateResourceConfig(ctx, req)
					if err != nil {
						t.Fatal(err)
					}
					if g, w := normalized(got.Diagnostics), normalized(want.Diagnostics); !reflect.DeepEqual(g, w) {
						t.Errorf("%s validation: the direct path answered %q, the framework %q", what, g, w)
					}
					validations++
				}
				create := plan(what+" create", &tfprotov6.PlanResourceChangeRequest{
					Config: dynamicValue(t, p.typ, config), PriorState: dynamicValue(t, p.typ, nullState),
					ProposedNewState: dynamicValue(t, p.typ, p.proposedNew(nullState, config)),
				})
				plans++
				if create.PlannedState == nil || len(create.Diagnostics) > 0 {
					continue
				}
				planned, err := create.PlannedState.Unmarshal(p.typ)
				if err != nil {
					t.Fatal(err)
				}
				state := applied(t, planned, i)
				next := config
				if rng.IntN(3) == 0 {
					next = randomConfig()
				}
				refresh := &tfprotov6.PlanResourceChangeRequest{
					Config: dynamicValue(t, p.typ, next), PriorState: dynamicValue(t, p.typ, state),
					ProposedNewState: dynamicValue(t, p.typ, p.proposedNew(state, next)),
				}
				if rng.IntN(4) > 0 {
					refresh.PriorIdentity = identity(state)
				}
				if rng.IntN(6) == 0 {
					refresh.PriorPrivate = []byte(`{"imported":"dHJ1ZQ=="}`)
				}
				plan(what+" refresh or change", refresh)
				destroy := &tfprotov6.PlanResourceChangeRequest{
					Config: dynamicValue(t, p.typ, nullState), PriorState: dynamicValue(t, p.typ, state),
					ProposedNewState: dynamicValue(t, p.typ, nullState), PriorIdentity: identity(state),
				}
				plan(what+" destroy", destroy)
				plans += 2
			}
			answered := p.counter.answered.Load()
			t.Logf("%d validations and %d plans; the direct path answered %d", validations, plans, answered)
			if answered < (validations+plans)/10 {
				t.Errorf("the direct path answered only %d of %d requests: the comparison shows little", answered, validations+plans)
			}
		})
	}
}

// TestDirectPath_answersTheBenchmarkedRequests checks that the requests of
// an ordinary apply, refresh and destroy (make bench's: a CA with a name,
// the account from the provider) are the ones the direct path answers.
func TestDirectPath_answersTheBenchmarkedRequests(t *testing.T) {
	ctx := context.Background()
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	p := newConfiguredDirectPair(t)
	config := objectWith(t, p.typ, map[string]tftypes.Value{
		"name": str("bench-0"), "ca": tftypes.NewValue(tftypes.Bool, true), "certificates": str(fixtures.Read("ca-cert.pem")),
	})
	// planDirectly plans from prior to config and requires the direct path
	// to answer; it returns the planned state.
	planDirectly := func(what string, prior, config tftypes.Value) tftypes.Value {
		t.Helper()
		before := p.counter.answered.Load()
		resp, err := p.direct.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName: certificateTypeName, Config: dynamicValue(t, p.typ, config), PriorState: dynamicValue(t, p.typ, prior),
			ProposedNewState: dynamicValue(t, p.typ, p.proposedNew(prior, config)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if p.counter.answered.Load() != before+1 {
			t.Errorf("%s: the framework answered, not the direct path", what)
		}
		planned, err := resp.PlannedState.Unmarshal(p.typ)
		if err != nil {
			t.Fatal(err)
		}
		return planned
	}
	before := p.counter.answered.Load()
	if _, err := p.direct.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: certificateTypeName, Config: dynamicValue(t, p.typ, config)}); err != nil {
		t.Fatal(err)
	}
	if p.counter.answered.Load() != before+1 {
		t.Error("validation: the framework answered, not the direct path")
	}
	nullState := tftypes.NewValue(p.typ, nil)
	state := applied(t, planDirectly("create plan", nullState, config), 1)
	if got := planDirectly("refresh plan", state, config); !got.Equal(state) {
		t.Errorf("the refresh plan changes the state: %v", got)
	}
	if got := planDirectly("destroy plan", state, nullState); !got.IsNull() {
		t.Errorf("the destroy plan is %v, not null", got)
	}
}

// TestDirectPath_onlyWithoutLogs checks that someone reading the logs gets
// every RPC through the framework, with its log lines, as before.
func TestDirectPath_onlyWithoutLogs(t *testing.T) {
	withLogs, ok := NewProtocol6Server("test")().(*contextReleasingServer)
	if !ok || withLogs.direct != nil {
		t.Error("a server with logs has a direct path")
	}
	if got := DefaultServerOptions([]string{"HOME=/root", "TF_LOG_PROVIDER=DEBUG"}); len(got) != 0 {
		t.Errorf("with TF_LOG_PROVIDER set the options are %d, want none", len(got))
	}
	without, ok := NewProtocol6Server("test", DefaultServerOptions([]string{"HOME=/root"})...)().(*contextReleasingServer)
	if !ok || without.direct == nil {
		t.Error("a server without TF_LOG* has no direct path")
	}
}

// TestDirectPath_concurrentPlans sends the direct path plans from many
// goroutines at once, as a CLI at -parallelism does, and requires each
// answer to be the one a lone plan gets (go test -race checks the rest).
func TestDirectPath_concurrentPlans(t *testing.T) {
	ctx := context.Background()
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	p := newConfiguredDirectPair(t)
	config := objectWith(t, p.typ, map[string]tftypes.Value{
		"ca": tftypes.NewValue(tftypes.Bool, false), "certificates": str(fixtures.Read("leaf-cert.pem")),
		"private_key": str(fixtures.Read("leaf-key.pem")),
	})
	nullState := tftypes.NewValue(p.typ, nil)
	req := func() *tfprotov6.PlanResourceChangeRequest {
		return &tfprotov6.PlanResourceChangeRequest{
			TypeName: certificateTypeName, Config: dynamicValue(t, p.typ, config), PriorState: dynamicValue(t, p.typ, nullState),
			ProposedNewState: dynamicValue(t, p.typ, p.proposedNew(nullState, config)),
		}
	}
	want, err := p.framework.PlanResourceChange(ctx, req())
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 10, 20
	errs := make(chan string, goroutines*each)
	done := make(chan struct{})
	for range goroutines {
		go func() {
			defer func() { done <- struct{}{} }()
			for range each {
				got, err := p.direct.PlanResourceChange(ctx, req())
				switch {
				case err != nil:
					errs <- err.Error()
				case dvString(got.PlannedState) != dvString(want.PlannedState) || len(got.Diagnostics) > 0:
					errs <- "an answer differs from the framework's: " + dvString(got.PlannedState)
				}
			}
		}()
	}
	for range goroutines {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := p.counter.answered.Load(); got != goroutines*each {
		t.Errorf("the direct path answered %d of %d plans", got, goroutines*each)
	}
}
