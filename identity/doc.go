// Package identity validates, normalises and masks the personal and enterprise
// identifiers that the service accepts: identity document numbers, personal
// names and unified social credit codes (USCC).
//
// Personal data must not leak through errors or logs. Every error returned
// here wraps one of the exported sentinel errors and adds at most a fixed
// reason text, and never the rejected value. Compare errors with errors.Is.
//
// The package uses only the standard library. Package identitytest builds
// synthetic numbers with valid check characters for tests.
package identity
