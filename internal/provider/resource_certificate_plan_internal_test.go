package provider

import (
	"context"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/fixtures"
)

// TestReplacedBy: the one rule of what replaces, case by case.
func TestReplacedBy(t *testing.T) {
	key := fixtures.Read("leaf-key.pem")
	otherKey := fixtures.Read("ca-key.pem")
	keyValue := func(text string) pemValue {
		if text == "" {
			return pemValue{StringValue: types.StringNull(), kind: pemPrivateKey}
		}
		return pemValue{StringValue: types.StringValue(text), kind: pemPrivateKey}
	}
	base := certificateModel{
		AccountID:           types.StringValue("0123456789abcdef0123456789abcdef"),
		Name:                types.StringValue("n"),
		CA:                  types.BoolValue(false),
		Certificates:        newPEMCertificates(fixtures.Read("leaf-cert.pem")),
		PrivateKey:          keyValue(""),
		PrivateKeyWOVersion: types.Int64Null(),
	}
	with := func(change func(*certificateModel)) certificateModel {
		m := base
		change(&m)
		return m
	}
	for name, tc := range map[string]struct {
		plan, state certificateModel
		keyWO       string
		imported    bool
		want        []string
	}{
		"nothing changes":             {plan: base, state: base},
		"another name":                {plan: with(func(m *certificateModel) { m.Name = types.StringValue("m") }), state: base, want: []string{"name"}},
		"null name to empty":          {plan: with(func(m *certificateModel) { m.Name = types.StringValue("") }), state: with(func(m *certificateModel) { m.Name = types.StringNull() })},
		"empty name to null":          {plan: with(func(m *certificateModel) { m.Name = types.StringNull() }), state: with(func(m *certificateModel) { m.Name = types.StringValue("") })},
		"empty name to a name":        {plan: base, state: with(func(m *certificateModel) { m.Name = types.StringValue("") }), want: []string{"name"}},
		"unknown name":                {plan: with(func(m *certificateModel) { m.Name = types.StringUnknown() }), state: base, want: []string{"name"}},
		"another account":             {plan: with(func(m *certificateModel) { m.AccountID = types.StringValue("fedcba9876543210fedcba9876543210") }), state: base, want: []string{"account_id"}},
		"ca flips":                    {plan: with(func(m *certificateModel) { m.CA = types.BoolValue(true) }), state: base, want: []string{"ca"}},
		"other certificates":          {plan: with(func(m *certificateModel) { m.Certificates = newPEMCertificates(fixtures.Read("ca-cert.pem")) }), state: base, want: []string{"certificates"}},
		"key added":                   {plan: with(func(m *certificateModel) { m.PrivateKey = keyValue(key) }), state: base, want: []string{"private_key"}},
		"key added after import":      {plan: with(func(m *certificateModel) { m.PrivateKey = keyValue(key) }), state: base, imported: true},
		"key changed after import":    {plan: with(func(m *certificateModel) { m.PrivateKey = keyValue(otherKey) }), state: with(func(m *certificateModel) { m.PrivateKey = keyValue(key) }), imported: true, want: []string{"private_key"}},
		"version added":               {plan: with(func(m *certificateModel) { m.PrivateKeyWOVersion = types.Int64Value(1) }), state: base, keyWO: key, want: []string{"private_key_wo_version"}},
		"version added after import":  {plan: with(func(m *certificateModel) { m.PrivateKeyWOVersion = types.Int64Value(1) }), state: base, keyWO: key, imported: true},
		"version bumped after import": {plan: with(func(m *certificateModel) { m.PrivateKeyWOVersion = types.Int64Value(2) }), state: with(func(m *certificateModel) { m.PrivateKeyWOVersion = types.Int64Value(1) }), keyWO: key, imported: true, want: []string{"private_key_wo_version"}},
		"key moves to write-only, same key": {
			plan:  with(func(m *certificateModel) { m.PrivateKeyWOVersion = types.Int64Value(1) }),
			state: with(func(m *certificateModel) { m.PrivateKey = keyValue(key) }), keyWO: key,
		},
		"key moves to write-only, another key": {
			plan:  with(func(m *certificateModel) { m.PrivateKeyWOVersion = types.Int64Value(1) }),
			state: with(func(m *certificateModel) { m.PrivateKey = keyValue(key) }), keyWO: otherKey,
			want: []string{"private_key", "private_key_wo_version"},
		},
		"key moves to write-only, key not known yet": {
			plan:  with(func(m *certificateModel) { m.PrivateKeyWOVersion = types.Int64Value(1) }),
			state: with(func(m *certificateModel) { m.PrivateKey = keyValue(key) }),
			want:  []string{"private_key", "private_key_wo_version"},
		},
	} {
		got := replacedBy(tc.plan, tc.state, tc.keyWO, tc.imported)
		var want []path.Path
		for _, attr := range tc.want {
			want = append(want, path.Root(attr))
		}
		if !slices.EqualFunc(got, want, path.Path.Equal) {
			t.Errorf("%s: replacedBy = %v, want %v", name, got, want)
		}
	}
}

// TestWarnIfInUseAsksOnlyAboutKnownCertificates: the associations of a
// replaced certificate are asked for once, and not at all while its id or
// account is unknown or null, or before the provider is configured.
func TestWarnIfInUseAsksOnlyAboutKnownCertificates(t *testing.T) {
	emu, err := emulator.Start(emulator.Options{APIToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	client, err := cfapi.New(cfapi.Config{APIToken: "tok", BaseURL: emu.URL()})
	if err != nil {
		t.Fatal(err)
	}
	const account = "0123456789abcdef0123456789abcdef"
	stored, err := emu.AddCertificate(account, "n", true, fixtures.Read("ca-cert.pem"), "")
	if err != nil {
		t.Fatal(err)
	}
	emu.SetAssociations(account, stored.ID, []emulator.Association{{Service: "gateway", Status: "active"}})
	state := certificateModel{AccountID: types.StringValue(account), ID: types.StringValue(stored.ID)}
	configured := &certificateResource{data: &providerData{client: client}}
	replaced := []path.Path{path.Root("certificates")}
	for name, tc := range map[string]struct {
		r            *certificateResource
		change       func(*certificateModel)
		wantRequests int
		wantWarnings int
	}{
		"known":              {r: configured, change: func(*certificateModel) {}, wantRequests: 1, wantWarnings: 1},
		"id unknown":         {r: configured, change: func(m *certificateModel) { m.ID = types.StringUnknown() }},
		"id null":            {r: configured, change: func(m *certificateModel) { m.ID = types.StringNull() }},
		"account unknown":    {r: configured, change: func(m *certificateModel) { m.AccountID = types.StringUnknown() }},
		"provider not ready": {r: &certificateResource{}, change: func(*certificateModel) {}},
	} {
		t.Run(name, func(t *testing.T) {
			emu.ResetCounts()
			m := state
			tc.change(&m)
			var diags diag.Diagnostics
			tc.r.warnIfInUse(context.Background(), m, replaced, &diags)
			if n := emu.RequestCount(emulator.RouteAssociations); n != tc.wantRequests {
				t.Errorf("%d associations requests, want %d", n, tc.wantRequests)
			}
			if len(diags) != tc.wantWarnings || diags.HasError() {
				t.Errorf("diagnostics %v, want %d warning(s)", diags, tc.wantWarnings)
			}
		})
	}
}
