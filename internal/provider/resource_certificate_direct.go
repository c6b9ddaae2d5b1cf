package provider

import (
	"context"
	"sort"
	"sync/atomic"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The direct path answers the two RPCs a CLI sends most often for a
// certificate, ValidateResourceConfig and PlanResourceChange (three and two
// of them per certificate in an apply), without the framework's schema
// walks, and gives the framework every request it is not sure of.
//
// terraform-plugin-framework v1.19.0 reads and writes every attribute by
// path for each of these RPCs, whether or not anything applies to it: with
// the certificate's 20 attributes that cost 240 µs per validation and
// 960 µs per plan, seven times what the same RPCs cost a resource of five
// attributes, and ModifyPlan itself was a twentieth of it. The direct path
// does what the framework does for this schema (nothing for attributes
// that have no plan modifier, default or validator) and runs the same
// resource code (validateCertificateConfig, plan), so its answers are the
// framework's. It answers only when:
//   - the schema is still what it was written for (newCertificateDirect
//     checks that, and turns it off otherwise);
//   - the request holds nothing it leaves to the framework: private state,
//     a timeouts block, the write-only key, values not yet known at
//     validation;
//   - the resource code raises no diagnostic at all: every error and
//     warning comes from the framework path, as it always did.
//
// It serves only WithoutLogs: with TF_LOG* set, every RPC goes through the
// framework and writes its log lines. TestDirectPath_sameAnswersAsTheFramework
// sends both paths thousands of validations and plans (creates, refreshes,
// changes, replacements and destroys, of valid, invalid and unknown values)
// and requires identical answers; the acceptance tests run on it.
type certificateDirect struct {
	typ         tftypes.Object
	identityTyp tftypes.Type // nil without an identity schema
	// computed are the computed attributes, and computedOnly those of them
	// that the configuration cannot set.
	computed, computedOnly []string
	// leftToFramework are the attributes whose presence in a request sends
	// it to the framework: the timeouts block, write-only attributes and
	// those whose validators only the framework runs.
	leftToFramework []string
	// validators are the attribute validators the direct path runs.
	validators map[string][]validator.String
	// configured is the provider data of the last ConfigureProvider, as
	// the framework hands it to the resource.
	configured *atomic.Pointer[providerData]
	// answered counts requests answered directly, for tests.
	answered atomic.Int64
}

// certificateTypeName is the resource's type name, as Metadata makes it.
const certificateTypeName = "mtls_certificate"

// newCertificateDirect returns the direct path for the schema as it is,
// or nil (no direct path) when the schema has anything the direct path
// does not do as the framework does: plan modifiers, defaults, validators
// on attributes other than account_id, nested attributes.
func newCertificateDirect(configured *atomic.Pointer[providerData]) *certificateDirect {
	ctx := context.Background()
	r := &certificateResource{}
	var sresp resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sresp)
	var iresp resource.IdentitySchemaResponse
	r.IdentitySchema(ctx, resource.IdentitySchemaRequest{}, &iresp)
	typ, ok := sresp.Schema.Type().TerraformType(ctx).(tftypes.Object)
	if !ok || sresp.Diagnostics.HasError() || iresp.Diagnostics.HasError() {
		return nil
	}
	d := &certificateDirect{typ: typ, configured: configured, validators: map[string][]validator.String{}}
	if len(iresp.IdentitySchema.Attributes) > 0 {
		d.identityTyp = iresp.IdentitySchema.Type().TerraformType(ctx)
	}
	for name := range sresp.Schema.Blocks {
		d.leftToFramework = append(d.leftToFramework, name)
	}
	for name, a := range sresp.Schema.Attributes {
		switch a := a.(type) {
		case schema.StringAttribute:
			if len(a.PlanModifiers) > 0 || a.Default != nil {
				return nil
			}
			switch {
			case len(a.Validators) == 0:
			case a.WriteOnly:
				// Their validators see the write-only value: such requests go
				// to the framework.
			case name == "account_id":
				d.validators[name] = a.Validators
			default:
				return nil
			}
		case schema.BoolAttribute:
			if len(a.PlanModifiers) > 0 || a.Default != nil || len(a.Validators) > 0 {
				return nil
			}
		case schema.Int64Attribute:
			if len(a.PlanModifiers) > 0 || a.Default != nil {
				return nil
			}
			if len(a.Validators) > 0 {
				d.leftToFramework = append(d.leftToFramework, name)
			}
		default:
			return nil
		}
		if a.IsWriteOnly() {
			d.leftToFramework = append(d.leftToFramework, name)
		}
		if a.IsComputed() {
			d.computed = append(d.computed, name)
			if !a.IsOptional() {
				d.computedOnly = append(d.computedOnly, name)
			}
		}
	}
	return d
}

// resource is the certificate resource as the framework configures it for
// an RPC.
func (d *certificateDirect) resource() *certificateResource {
	return &certificateResource{data: d.configured.Load()}
}

// attrs unmarshals a request's value of the resource type into its
// attributes; ok is false when it is not a known object.
func (d *certificateDirect) attrs(dv *tfprotov6.DynamicValue) (v tftypes.Value, attrs map[string]tftypes.Value, ok bool) {
	if dv == nil {
		return tftypes.Value{}, nil, false
	}
	v, err := dv.Unmarshal(d.typ)
	if err != nil || !v.IsKnown() {
		return tftypes.Value{}, nil, false
	}
	if v.IsNull() {
		return v, nil, true
	}
	if err := v.As(&attrs); err != nil {
		return tftypes.Value{}, nil, false
	}
	return v, attrs, true
}

// leavesToFramework is true when the configuration sets anything the
// direct path leaves to the framework.
func (d *certificateDirect) leavesToFramework(config map[string]tftypes.Value) bool {
	for _, name := range d.leftToFramework {
		if !config[name].IsNull() {
			return true
		}
	}
	return false
}

// validate answers a ValidateResourceConfig of a wholly known configuration
// that passes every check; ok is false for anything else.
func (d *certificateDirect) validate(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, bool) {
	config, attrs, ok := d.attrs(req.Config)
	if !ok || config.IsNull() || !config.IsFullyKnown() || d.leavesToFramework(attrs) {
		return nil, false
	}
	for _, name := range d.computedOnly {
		if !attrs[name].IsNull() {
			return nil, false // the framework's error
		}
	}
	for name, validators := range d.validators {
		v, err := stringFrom(attrs[name])
		if err != nil {
			return nil, false
		}
		if v.IsNull() {
			continue // string validators pass null values
		}
		for _, check := range validators {
			resp := &validator.StringResponse{}
			check.ValidateString(ctx, validator.StringRequest{ConfigValue: v}, resp)
			if len(resp.Diagnostics) > 0 {
				return nil, false
			}
		}
	}
	var cfg certificateModel
	if diags := readModel(ctx, config, &cfg); len(diags) > 0 {
		return nil, false
	}
	if diags := validateCertificateConfig(cfg); len(diags) > 0 {
		return nil, false
	}
	d.answered.Add(1)
	return &tfprotov6.ValidateResourceConfigResponse{}, true
}

// plan answers a PlanResourceChange without private state whose plan raises
// no diagnostic; ok is false for anything else. It does what the framework
// does for this schema: the proposed new state with computed attributes
// that the configuration leaves null marked unknown when it differs from
// the prior state, then ModifyPlan's work (plan).
func (d *certificateDirect) plan(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, bool) {
	if len(req.PriorPrivate) > 0 {
		return nil, false
	}
	config, configAttrs, ok := d.attrs(req.Config)
	if !ok || d.leavesToFramework(configAttrs) {
		return nil, false
	}
	prior, _, ok := d.attrs(req.PriorState)
	if !ok {
		return nil, false
	}
	proposed, planned, ok := d.attrs(req.ProposedNewState)
	if !ok || config.IsNull() != proposed.IsNull() || (prior.IsNull() && proposed.IsNull()) {
		return nil, false
	}
	resp := &tfprotov6.PlanResourceChangeResponse{}
	if d.identityTyp != nil {
		identity := tftypes.NewValue(d.identityTyp, nil)
		if req.PriorIdentity != nil && req.PriorIdentity.IdentityData != nil {
			v, err := req.PriorIdentity.IdentityData.Unmarshal(d.identityTyp)
			if err != nil {
				return nil, false
			}
			identity = v
		}
		dv, err := tfprotov6.NewDynamicValue(d.identityTyp, identity)
		if err != nil {
			return nil, false
		}
		resp.PlannedIdentity = &tfprotov6.ResourceIdentityData{IdentityData: &dv}
	}
	if !proposed.IsNull() {
		// The framework nulls write-only values here; a configuration
		// that sets one went to the framework above.
		planValue := tftypes.NewValue(d.typ, planned)
		if !planValue.Equal(prior) {
			for _, name := range d.computed {
				if configAttrs[name].IsNull() {
					planned[name] = tftypes.NewValue(d.typ.AttributeTypes[name], tftypes.UnknownValue)
				}
			}
			planValue = tftypes.NewValue(d.typ, planned)
		}
		p := d.resource().plan(ctx, planValue, config, prior, func() (bool, diag.Diagnostics) { return false, nil })
		if len(p.diags) > 0 || p.planned == nil {
			return nil, false
		}
		proposed = *p.planned
		resp.RequiresReplace = requiresReplace(p.requiresReplace)
	}
	dv, err := tfprotov6.NewDynamicValue(d.typ, proposed)
	if err != nil {
		return nil, false
	}
	resp.PlannedState = &dv
	d.answered.Add(1)
	return resp, true
}

// requiresReplace is paths as the framework answers them: sorted, without
// duplicates, nil when empty.
func requiresReplace(paths []path.Path) []*tftypes.AttributePath {
	if len(paths) == 0 {
		return nil
	}
	names := make([]string, 0, len(paths))
	for _, p := range paths {
		names = append(names, p.String())
	}
	sort.Strings(names)
	var out []*tftypes.AttributePath
	for i, n := range names {
		if i > 0 && n == names[i-1] {
			continue
		}
		out = append(out, tftypes.NewAttributePath().WithAttributeName(n))
	}
	return out
}
