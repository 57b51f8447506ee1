// Package e2e holds the end-to-end tests (build tag e2e): they run the whole
// stack natively through e2e/stack and check that its parts work together.
//
//	go test -tags e2e -v ./e2e/
package e2e
