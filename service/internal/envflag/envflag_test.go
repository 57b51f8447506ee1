package envflag

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	newFS := func() (*flag.FlagSet, *int, *string) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		return fs, fs.Int("max-nodes", 1, ""), fs.String("listen-addr", ":1", "")
	}
	env := map[string]string{"X_MAX_NODES": "5", "X_LISTEN_ADDR": ":9"}
	fs, n, addr := newFS()
	if err := Parse(fs, []string{"--max-nodes", "7"}, "X", func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if *n != 7 || *addr != ":9" {
		t.Errorf("max-nodes %d (flag must win), listen-addr %q (from env)", *n, *addr)
	}
	fs, _, _ = newFS()
	err := Parse(fs, nil, "X", func(k string) string { return map[string]string{"X_MAX_NODES": "many"}[k] })
	if err == nil || !strings.Contains(err.Error(), "X_MAX_NODES") {
		t.Errorf("bad env value: %v", err)
	}
	fs, _, _ = newFS()
	if err := Parse(fs, []string{"extra"}, "X", func(string) string { return "" }); err == nil {
		t.Error("a positional argument was accepted")
	}
}
