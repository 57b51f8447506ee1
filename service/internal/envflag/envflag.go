// Package envflag gives every flag of a flag.FlagSet an environment
// variable: with prefix CRETOAI, --max-nodes is CRETOAI_MAX_NODES. A flag
// given on the command line wins over its variable.
package envflag

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Name is the environment variable of a flag.
func Name(prefix, flagName string) string {
	return prefix + "_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Usage returns a usage function that prints header and every flag with its
// variable and default.
func Usage(fs *flag.FlagSet, out io.Writer, prefix, header string) func() {
	return func() {
		fmt.Fprint(out, header)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(out, "  --%s  (%s)\n    \t%s (default %q)\n", f.Name, Name(prefix, f.Name), f.Usage, f.DefValue)
		})
	}
}

// Parse parses args, refuses positional arguments, then sets every flag not
// given on the command line from its non-empty environment variable.
func Parse(fs *flag.FlagSet, args []string, prefix string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v := getenv(Name(prefix, f.Name)); v != "" {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s: %w", Name(prefix, f.Name), serr)
			}
		}
	})
	return err
}
