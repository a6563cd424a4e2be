//go:build tools

// Package tools pins the command build.sh installs, so `go mod tidy` keeps it in go.sum.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
