package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/fixtures"
	"github.com/tf-mtls/terraform-provider-mtls/internal/provider"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// A module that passes `ca = var.is_ca` sends null when its caller leaves
// the variable unset, just as if the argument were left out. These tests
// set arguments to null that way, through the provider binary as users run
// it (no TF_LOG*), and take the arguments from the provider's schema, so a
// new argument is covered without editing them:
//   - every required argument, left null, fails at plan with no request;
//   - every optional argument, left null, behaves as if it were left out.

// unsetVariable is the variable every null argument is set from.
const unsetVariable = "variable \"unset\" {\n  type    = any\n  default = null\n}\n"

// requiredProviders declares the provider, as calling its functions needs.
func requiredProviders(ws *acctest.Workspace) string {
	return fmt.Sprintf("terraform {\n  required_providers {\n    mtls = { source = %q }\n  }\n}\n", ws.ProviderAddress())
}

// Block kinds, as the keys of schemaArguments name them.
const (
	kindProvider = "provider"
	kindResource = "resource"
	kindData     = "data"
	kindList     = "list"
	kindFunction = "function"
)

// argument is one argument of the provider's schema: of the provider block
// (typeName ""), a resource, data source or list resource, or a function's
// parameter. path is "name", or "block.name" for an attribute of a nested
// block such as timeouts.
type argument struct {
	kind, typeName, path string
	required, writeOnly  bool
}

func (a argument) String() string {
	return strings.TrimPrefix(strings.Join([]string{a.kind, a.typeName, a.path}, "."), ".")
}

// schemaArguments lists every argument the provider's schema has.
func schemaArguments(t *testing.T) []argument {
	t.Helper()
	resp, err := provider.NewProtocol6Server("test")().GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || len(resp.Diagnostics) > 0 {
		t.Fatalf("GetProviderSchema: %v %v", err, resp.Diagnostics)
	}
	var args []argument
	add := func(kind, typeName string, s *tfprotov6.Schema) {
		for _, a := range s.Block.Attributes {
			if a.Required || a.Optional {
				args = append(args, argument{kind, typeName, a.Name, a.Required, a.WriteOnly})
			}
		}
		for _, b := range s.Block.BlockTypes {
			for _, a := range b.Block.Attributes {
				if a.Required || a.Optional {
					args = append(args, argument{kind, typeName, b.TypeName + "." + a.Name, a.Required, a.WriteOnly})
				}
			}
		}
	}
	add(kindProvider, "", resp.Provider)
	for name, s := range resp.ResourceSchemas {
		add(kindResource, name, s)
	}
	for name, s := range resp.DataSourceSchemas {
		add(kindData, name, s)
	}
	for name, s := range resp.ListResourceSchemas {
		add(kindList, name, s)
	}
	for name, f := range resp.Functions {
		for _, p := range f.Parameters {
			args = append(args, argument{kindFunction, name, p.Name, !p.AllowNullValue, false})
		}
	}
	sort.Slice(args, func(i, j int) bool { return args[i].String() < args[j].String() })
	return args
}

// block renders one configuration block of kind and typeName, named
// "this" (see namedBlock), with args as HCL expressions by argument path. An empty
// expression writes no line, but still opens its nested block.
func block(kind, typeName string, args map[string]string) string {
	return namedBlock(kind, typeName, "this", args)
}

func namedBlock(kind, typeName, name string, args map[string]string) string {
	var lines []string
	nested := map[string][]string{}
	for _, path := range slices.Sorted(maps.Keys(args)) {
		expr := args[path]
		if outer, inner, ok := strings.Cut(path, "."); ok {
			if _, opened := nested[outer]; !opened {
				nested[outer] = []string{}
			}
			if expr != "" {
				nested[outer] = append(nested[outer], fmt.Sprintf("    %s = %s", inner, expr))
			}
			continue
		}
		if expr != "" {
			lines = append(lines, fmt.Sprintf("  %s = %s", path, expr))
		}
	}
	for _, outer := range slices.Sorted(maps.Keys(nested)) {
		lines = append(lines, "  "+outer+" {")
		lines = append(lines, nested[outer]...)
		lines = append(lines, "  }")
	}
	body := strings.Join(lines, "\n")
	switch kind {
	case kindProvider:
		return "provider \"mtls\" {\n" + body + "\n}\n"
	case kindList:
		return fmt.Sprintf("list %q %q {\n  provider = mtls\n  config {\n%s\n  }\n}\n", typeName, name, body)
	default:
		return fmt.Sprintf("%s %q %q {\n%s\n}\n", kind, typeName, name, body)
	}
}

// functionCall renders an output calling the function with args in the
// order of its parameters.
func functionCall(name string, params []string, args map[string]string) string {
	exprs := make([]string, len(params))
	for i, p := range params {
		exprs[i] = args[p]
	}
	return fmt.Sprintf("output \"this\" {\n  value = provider::mtls::%s(%s)\n}\n", name, strings.Join(exprs, ", "))
}

// TestAccNullArguments_requiredFailAtPlan: each required argument, set from
// an unset variable while every other one is valid, fails the plan on that
// argument before the provider sends any request. The same configuration
// with the argument set plans, so the failure is the null's.
func TestAccNullArguments_requiredFailAtPlan(t *testing.T) {
	t.Parallel()
	// A valid value for every required argument. A new required argument
	// fails the test until it has one here.
	valid := map[string]string{
		"resource.mtls_certificate.ca":                           "true",
		"resource.mtls_certificate.certificates":                 `file("ca.pem")`,
		"data.mtls_certificate_associations.mtls_certificate_id": "", // the id of a stored certificate, below
		"resource.mtls_hostname_association.zone_id":             `"0123456789abcdef0123456789abcdef"`,
		"resource.mtls_hostname_association.mtls_certificate_id": "", // the id of a stored certificate, below
		"resource.mtls_hostname_association.hostnames":           `["api.example.com"]`,
		"function.certificate_info.pem":                          `file("ca.pem")`,
	}
	var required []argument
	for _, a := range schemaArguments(t) {
		if a.required {
			required = append(required, a)
		}
	}
	var found []string
	for _, a := range required {
		found = append(found, a.String())
	}
	if want := slices.Sorted(maps.Keys(valid)); !slices.Equal(found, want) {
		t.Fatalf("the schema's required arguments are %v; this test has valid values for %v", found, want)
	}

	for _, target := range required {
		t.Run(target.String(), func(t *testing.T) {
			t.Parallel()
			env := acctest.New(t)
			env.RequireEmulator(t)
			if target.kind == kindFunction {
				acctest.RequireCLI(t, acctest.ProviderFunctions)
			}
			if target.kind == kindList {
				acctest.RequireCLI(t, acctest.ListResources)
			}
			stored, err := env.Emulator.AddCertificate(env.AccountID, "stored", true, fixtures.Read("ca-cert.pem"), emulator.TypeCustom)
			if err != nil {
				t.Fatal(err)
			}
			args := map[string]string{}
			var params []string
			for _, a := range required {
				if a.kind == target.kind && a.typeName == target.typeName {
					args[a.path] = valid[a.String()]
					params = append(params, a.path)
				}
			}
			if _, ok := args["mtls_certificate_id"]; ok {
				args["mtls_certificate_id"] = strconv.Quote(stored.ID)
			}
			ws := newNullWorkspace(t, env)
			config := func(args map[string]string) (main, query string) {
				main = requiredProviders(ws) + unsetVariable + "provider \"mtls\" {}\n"
				switch target.kind {
				case kindProvider:
					main = requiredProviders(ws) + unsetVariable + block(kindProvider, "", args) + "data \"mtls_certificates\" \"this\" {}\n"
				case kindFunction:
					main += functionCall(target.typeName, params, args)
				case kindList:
					query = block(kindList, target.typeName, args)
				default:
					main += block(target.kind, target.typeName, args)
				}
				return main, query
			}
			run := func(args map[string]string) acctest.Result {
				main, query := config(args)
				ws.SetConfig(main)
				env.Emulator.ResetCounts()
				if target.kind == kindList {
					ws.WriteFile("this.tfquery.hcl", query)
					return ws.Run("query", "-json", "-no-color")
				}
				return ws.Run("plan", "-json", "-input=false", "-no-color")
			}

			if r := run(args); r.ExitCode != 0 {
				t.Fatalf("with every required argument set, the plan failed (exit %d): %+v\n%s", r.ExitCode, r.Errors(), r.Stderr)
			}
			args[target.path] = "var.unset"
			r := run(args)
			if r.ExitCode == 0 {
				t.Fatalf("%s = null planned successfully:\n%s", target, r.Stdout)
			}
			errs := r.Errors()
			if len(errs) != 1 {
				t.Fatalf("%s = null: %d errors, want 1: %+v\n%s", target, len(errs), errs, r.Stderr)
			}
			name := target.path[strings.LastIndex(target.path, ".")+1:]
			wantSummary := "Missing Configuration for Required Attribute"
			if target.kind == kindFunction {
				wantSummary = "Invalid function argument" // Terraform checks a function's null arguments itself.
			}
			if errs[0].Summary != wantSummary || !strings.Contains(errs[0].Detail, name) {
				t.Errorf("%s = null: error %q: %q; want %q naming %q", target, errs[0].Summary, errs[0].Detail, wantSummary, name)
			}
			if counts := env.Emulator.RequestCounts(); len(counts) != 0 {
				t.Errorf("%s = null: the provider sent requests %v before failing", target, counts)
			}
		})
	}
}

// newNullWorkspace is a binary workspace whose provider takes the
// emulator's URL and credentials from the environment, so that a provider
// block may leave every argument out, and which holds ca.pem (the
// certificate the tests store in the emulator) and ca2.pem (another).
func newNullWorkspace(t *testing.T, env *acctest.Env) *acctest.Workspace {
	t.Helper()
	ws := acctest.NewBinaryWorkspace(t)
	ws.Setenv(provider.EnvBaseURL, env.Emulator.URL())
	ws.Setenv(provider.EnvAPIToken, env.Token)
	ws.Setenv(provider.EnvAccountID, env.AccountID)
	ws.WriteFile("ca.pem", fixtures.Read("ca-cert.pem"))
	ws.WriteFile("ca2.pem", fixtures.Read("ca2-cert.pem"))
	return ws
}

// nullBlock is a block of TestAccNullArguments_optionalAsIfLeftOut's
// configuration: the arguments it sets; every other optional argument of
// its type is null in one configuration and left out in the other.
type nullBlock struct {
	kind, typeName, name string
	set                  map[string]string
}

// nullConfig renders blocks with their other optional arguments set to
// null (withNulls) or left out. A nested block whose attributes are null
// is written empty when they are left out, so that only the nulls differ.
func nullConfig(ws *acctest.Workspace, all []argument, blocks []nullBlock, withNulls bool) string {
	var b strings.Builder
	b.WriteString(requiredProviders(ws) + unsetVariable)
	for _, blk := range blocks {
		args := map[string]string{}
		maps.Copy(args, blk.set)
		for _, a := range all {
			if a.kind != blk.kind || a.typeName != blk.typeName || a.required || a.writeOnly && !ws.CLIVersion().Has(acctest.WriteOnlyAttributes) {
				// A CLI without write-only attributes validates a variable
				// as a value not yet known, which the framework refuses for
				// a write-only attribute even when it turns out null; the
				// resource's docs say so.
				continue
			}
			if _, set := args[a.path]; set {
				continue
			}
			switch {
			case withNulls:
				args[a.path] = "var.unset"
			case strings.Contains(a.path, "."):
				args[a.path] = "" // the nested block, empty
			}
		}
		b.WriteString(namedBlock(blk.kind, blk.typeName, blk.name, args))
	}
	return b.String()
}

// planOutcome is what a plan showed: its exit code, diagnostics, requests
// by route and, from the saved plan, every section that describes values
// (not "configuration", which holds the expressions).
type planOutcome struct {
	ExitCode    int
	Diagnostics []acctest.Diagnostic
	Requests    map[string]int
	Plan        map[string]any
}

func planAndShow(t *testing.T, ws *acctest.Workspace, env *acctest.Env, planFile string) planOutcome {
	t.Helper()
	env.Emulator.ResetCounts()
	r := ws.Run("plan", "-json", "-input=false", "-out="+planFile)
	out := planOutcome{ExitCode: r.ExitCode, Diagnostics: r.Diagnostics(), Requests: env.Emulator.RequestCounts()}
	sort.Slice(out.Diagnostics, func(i, j int) bool {
		return fmt.Sprint(out.Diagnostics[i]) < fmt.Sprint(out.Diagnostics[j])
	})
	if r.ExitCode != 0 {
		return out
	}
	// The whole of each section, as the CLI prints it: tfjson.Plan would
	// leave out what it has no field for, such as action_reason.
	var shown map[string]any
	if err := json.Unmarshal([]byte(ws.MustRun("show", "-json", "-no-color", planFile).Stdout), &shown); err != nil {
		t.Fatalf("decoding show -json: %v", err)
	}
	out.Plan = map[string]any{}
	for _, section := range []string{"planned_values", "resource_changes", "prior_state", "output_changes", "errored"} {
		out.Plan[section] = shown[section]
	}
	return out
}

// TestAccNullArguments_optionalAsIfLeftOut: a configuration with every
// optional argument of the provider, the resource and each data source set
// from an unset variable plans exactly as the same configuration without
// them: the same exit code, diagnostics, requests and planned values. A
// certificate applied from it then plans no change against the
// configuration that leaves them out.
func TestAccNullArguments_optionalAsIfLeftOut(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	stored, err := env.Emulator.AddCertificate(env.AccountID, "stored", true, fixtures.Read("ca-cert.pem"), emulator.TypeCustom)
	if err != nil {
		t.Fatal(err)
	}
	all := schemaArguments(t)
	blocks := []nullBlock{
		{kind: kindProvider},
		{kindResource, "mtls_certificate", "this", map[string]string{"ca": "true", "certificates": `file("ca2.pem")`}},
		{kindData, "mtls_certificate", "by_id", map[string]string{"id": strconv.Quote(stored.ID)}},
		{kindData, "mtls_certificate", "by_name", map[string]string{"name": `"stored"`}},
		{kindData, "mtls_certificates", "this", nil},
		{kindData, "mtls_certificate_associations", "this", map[string]string{"mtls_certificate_id": strconv.Quote(stored.ID)}},
		{kindResource, "mtls_hostname_association", "this", map[string]string{
			"zone_id": `"0123456789abcdef0123456789abcdef"`, "mtls_certificate_id": strconv.Quote(stored.ID), "hostnames": `["api.example.com"]`,
		}},
	}
	// Every resource and data source type is in the configuration.
	for _, a := range all {
		if a.kind == kindResource || a.kind == kindData {
			if !slices.ContainsFunc(blocks, func(b nullBlock) bool { return b.kind == a.kind && b.typeName == a.typeName }) {
				t.Fatalf("%s %s is not in this test's configuration", a.kind, a.typeName)
			}
		}
	}
	ws := newNullWorkspace(t, env)
	leftOut, withNulls := nullConfig(ws, all, blocks, false), nullConfig(ws, all, blocks, true)
	if strings.Count(withNulls, "var.unset") < 10 {
		t.Fatalf("the configuration sets only %d arguments to null:\n%s", strings.Count(withNulls, "var.unset"), withNulls)
	}

	ws.SetConfig(leftOut)
	want := planAndShow(t, ws, env, "left-out.tfplan")
	if want.ExitCode != 0 {
		t.Fatalf("the plan without the optional arguments failed (exit %d): %+v\n%s", want.ExitCode, want.Diagnostics, leftOut)
	}
	ws.SetConfig(withNulls)
	got := planAndShow(t, ws, env, "nulls.tfplan")
	if !reflect.DeepEqual(got, want) {
		gotJSON, _ := json.MarshalIndent(got, "", "  ")
		wantJSON, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("with the optional arguments null the plan differs from the one without them.\nnull:\n%s\nleft out:\n%s\nconfiguration:\n%s",
			gotJSON, wantJSON, withNulls)
	}

	t.Cleanup(func() { ws.Run("destroy", "-auto-approve", "-input=false", "-no-color") })
	ws.MustRun("apply", "-input=false", "-no-color", "nulls.tfplan")
	ws.SetConfig(leftOut)
	if r := ws.Run("plan", "-detailed-exitcode", "-input=false", "-no-color"); r.ExitCode != 0 {
		t.Fatalf("after applying with the optional arguments null, the configuration without them plans changes (exit %d):\n%s%s",
			r.ExitCode, r.Stdout, r.Stderr)
	}
}

// queryLines is what `query -json` printed, line by line, without the
// time each line was written.
func queryLines(t *testing.T, r acctest.Result) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(r.Stdout) {
		var msg map[string]any
		if err := json.Unmarshal([]byte(line), &msg); err != nil {
			t.Fatalf("query -json printed a line that is not JSON: %q", line)
		}
		delete(msg, "@timestamp")
		out = append(out, msg)
	}
	return out
}

// TestAccNullArguments_listOptionalAsIfLeftOut: a list block whose
// optional arguments are all set from an unset variable lists exactly
// what the same block without them lists, with the same requests.
func TestAccNullArguments_listOptionalAsIfLeftOut(t *testing.T) {
	t.Parallel()
	acctest.RequireCLI(t, acctest.ListResources)
	env := acctest.New(t)
	env.RequireEmulator(t)
	for _, name := range []string{"first", "second"} {
		if _, err := env.Emulator.AddCertificate(env.AccountID, name, true, testcerts.NewCA(name).PEM, emulator.TypeCustom); err != nil {
			t.Fatal(err)
		}
	}
	all := schemaArguments(t)
	ws := newNullWorkspace(t, env)
	ws.SetConfig(requiredProviders(ws) + unsetVariable + "provider \"mtls\" {}\n")
	var lists []nullBlock
	for _, a := range all {
		if a.kind == kindList && !slices.ContainsFunc(lists, func(b nullBlock) bool { return b.typeName == a.typeName }) {
			lists = append(lists, nullBlock{kind: kindList, typeName: a.typeName, name: "this"})
		}
	}
	if len(lists) == 0 {
		t.Fatal("the schema has no list resource")
	}
	query := func(withNulls bool) (int, []map[string]any, map[string]int) {
		config := nullConfig(ws, all, lists, withNulls)
		ws.WriteFile("this.tfquery.hcl", config[strings.Index(config, "list "):])
		env.Emulator.ResetCounts()
		r := ws.Run("query", "-json", "-no-color")
		return r.ExitCode, queryLines(t, r), env.Emulator.RequestCounts()
	}
	wantCode, want, wantRequests := query(false)
	found := 0
	for _, msg := range want {
		if msg["type"] == "list_resource_found" {
			found++
		}
	}
	if wantCode != 0 || found != 2 {
		t.Fatalf("the query without the optional arguments found %d certificates, want 2 (exit %d): %v", found, wantCode, want)
	}
	gotCode, got, gotRequests := query(true)
	if gotCode != wantCode || !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotRequests, wantRequests) {
		t.Fatalf("with the optional arguments null the query differs from the one without them:\nnull: exit %d, requests %v\n%v\nleft out: exit %d, requests %v\n%v",
			gotCode, gotRequests, got, wantCode, wantRequests, want)
	}
}
