package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// TestListResourceThroughTheWrapper: the provider's server, the framework's
// wrapped to keep memory flat, still serves list resources: the protocol
// library finds them by type assertion, and a list request reaches the
// framework and streams the account's uploaded certificates.
func TestListResourceThroughTheWrapper(t *testing.T) {
	f := newRPCFixture(t, rpcLoggings[0])
	lister, ok := f.server.(tfprotov6.ListResourceServer)
	if !ok {
		t.Fatalf("the provider's server (%T) hides the list resource RPCs", f.server)
	}
	ctx := context.Background()
	schemas, err := f.server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	requireNoErrors(t, "GetProviderSchema", schemas, err)
	listSchema := schemas.ListResourceSchemas[certificateType]
	if listSchema == nil {
		t.Fatalf("GetProviderSchema lists no %s list resource", certificateType)
	}
	var want []string
	for i := range 3 {
		c, err := f.api.AddCertificate(f.accountID, "", true, testcerts.NewCA("listed").PEM, emulator.TypeCustom)
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			want = append(want, c.ID)
		}
	}
	if _, err := f.api.AddCertificate(f.accountID, "gw", true, testcerts.NewCA("gateway").PEM, emulator.TypeGatewayManaged); err != nil {
		t.Fatal(err)
	}
	configType := listSchema.ValueType()
	config := dynamicValue(t, configType, objectWith(t, configType, nil))
	stream, err := lister.ListResource(ctx, &tfprotov6.ListResourceRequest{
		TypeName: certificateType, Config: config, IncludeResource: true, Limit: 2,
	})
	if err != nil || stream == nil {
		t.Fatalf("ListResource: %v", err)
	}
	var got []string
	for result := range stream.Results {
		for _, d := range result.Diagnostics {
			if d.Severity == tfprotov6.DiagnosticSeverityError {
				t.Fatalf("list result error: %s: %s", d.Summary, d.Detail)
			}
		}
		identity := decode(t, f.identityType, result.Identity.IdentityData)
		attrs := map[string]tftypes.Value{}
		if err := identity.As(&attrs); err != nil {
			t.Fatal(err)
		}
		var id, account string
		_ = attrs["id"].As(&id)
		_ = attrs["account_id"].As(&account)
		if account != f.accountID {
			t.Errorf("identity account %q, want %q", account, f.accountID)
		}
		resource := attributes(t, decode(t, f.typ, result.Resource))
		var certificates string
		_ = resource["certificates"].As(&certificates)
		if certificates == "" || !resource["private_key"].IsNull() || result.DisplayName != "CN=listed,O=tf-mtls tests" {
			t.Errorf("result %s: certificates %d bytes, private_key null %t, display name %q", id, len(certificates), resource["private_key"].IsNull(), result.DisplayName)
		}
		got = append(got, id)
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("listed %v, want the first two uploaded certificates %v (limit 2, gateway_managed left out)", got, want)
	}
}

// TestListResourceRefusesAnIncompleteListing: a query of an account of 61
// certificates, through a server that answers every page with the first
// 50, streams none of them and fails naming the account and the counts.
// It runs through the RPC: only CLIs from Terraform 1.14 have query.
func TestListResourceRefusesAnIncompleteListing(t *testing.T) {
	f := newRPCFixtureWith(t, rpcLoggings[0], emulator.Options{Paging: emulator.PagingIgnored})
	lister := f.server.(tfprotov6.ListResourceServer)
	ctx := context.Background()
	root := testcerts.NewCA("paged query root")
	for i := range 61 {
		if _, err := f.api.AddCertificate(f.accountID, fmt.Sprintf("paged-%03d", i), false,
			root.Issue(fmt.Sprintf("paged-%03d.example.com", i)).PEM, emulator.TypeCustom); err != nil {
			t.Fatal(err)
		}
	}
	schemas, err := f.server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	requireNoErrors(t, "GetProviderSchema", schemas, err)
	configType := schemas.ListResourceSchemas[certificateType].ValueType()
	stream, err := lister.ListResource(ctx, &tfprotov6.ListResourceRequest{
		TypeName: certificateType, Config: dynamicValue(t, configType, objectWith(t, configType, nil)), Limit: 500,
	})
	if err != nil || stream == nil {
		t.Fatalf("ListResource: %v", err)
	}
	results, errs := 0, []string{}
	for result := range stream.Results {
		if result.Identity != nil {
			results++
		}
		for _, d := range result.Diagnostics {
			if d.Severity == tfprotov6.DiagnosticSeverityError {
				errs = append(errs, d.Summary+": "+d.Detail)
			}
		}
	}
	if results != 0 || len(errs) != 1 {
		t.Fatalf("the query streamed %d results and errors %q; want none and one error", results, errs)
	}
	for _, want := range []string{"Unable to List mTLS Certificates", "Could not list the certificates of account " + f.accountID,
		"after page 2 with 50 certificates, but the API reported 61", "ignores the `page` parameter"} {
		if !strings.Contains(errs[0], want) {
			t.Errorf("error %q does not say %q", errs[0], want)
		}
	}
}
