package provider

// Test helpers of this package that the external tests (package
// provider_test) use too.
var (
	ObjectWith   = objectWith
	DynamicValue = dynamicValue
	Decode       = decode
)
