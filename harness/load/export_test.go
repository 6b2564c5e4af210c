//go:build loadcost

package load

// NewTargeter lets the loadcost comparison, an external test, build the
// same signed targets the generator sends.
var NewTargeter = eventTargeter
