// Command ghapp-bench measures what git-credential-ghapp costs as git runs it: one new process per
// request. It builds the helper (static, as install.sh does), starts the fake GitHub on 127.0.0.1
// with added latency on every API answer, and prints a table of the performance targets:
//
//   - a cached get against `git credential-store get` for the same credential (and against
//     `gh auth git-credential get` when gh is on PATH), median and p90 over alternating runs;
//   - the peak RSS of a cached get;
//   - API round trips of a cold get, of a get whose installation is already known, and of a hit;
//   - concurrent cold gets for one repository: how many mints, and how long the callers wait;
//   - what a miss pays for the front: cold gets through the front against the same gets on the
//     full helper directly, in pairs, with no added latency.
//
// Usage, from the repository:
//
//	go run ./internal/cmd/ghapp-bench [-n 200] [-latency 50ms] [-concurrency 16] [-pairs 200] [-json]
//
// It exits 1 when a counted target (round trips, mints) is missed, 2 on a usage error, and 3 when
// the benchmark itself could not run. Wall-time ratios are reported with PASS or MISS but never
// change the exit status: they depend on the machine and its load.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args, runs the benchmark, prints the report and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "ghapp-bench: %v\n", err)
		return 2
	}
	if !cfg.Quiet {
		cfg.Progress = stderr
	}
	rep, err := bench(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "ghapp-bench: %v\n", err)
		return 3
	}
	rep.Command = strings.TrimSpace("go run ./internal/cmd/ghapp-bench " + strings.Join(args, " "))
	if cfg.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "ghapp-bench: %v\n", err)
			return 3
		}
	} else {
		rep.WriteTable(stdout)
	}
	if !rep.CountsPass() {
		fmt.Fprintln(stderr, "ghapp-bench: a counted target was missed (see MISS above)")
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (Config, error) {
	var cfg Config
	fs := flag.NewFlagSet("ghapp-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.N, "n", 200, "process runs per cached-get measurement (each contender)")
	fs.IntVar(&cfg.ColdRuns, "cold", 10, "runs of each cold and warm-mapping get")
	fs.DurationVar(&cfg.Latency, "latency", 50*time.Millisecond, "latency the fake GitHub adds to every API answer")
	fs.IntVar(&cfg.Concurrency, "concurrency", 16, "concurrent cold gets for one repository")
	fs.IntVar(&cfg.Pairs, "pairs", 200, "pairs of cold gets, through the front and on the full helper, for what a miss pays for the hand-over (run with no added latency)")
	fs.StringVar(&cfg.Helper, "helper", "", "use this git-credential-ghapp front (git-credential-ghapp-full beside it) instead of building the pair")
	fs.BoolVar(&cfg.CGO, "cgo", false, "also build and measure a cgo-linked helper (needs a C compiler)")
	fs.BoolVar(&cfg.JSON, "json", false, "print the report as JSON")
	fs.BoolVar(&cfg.Quiet, "q", false, "no progress lines on stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./internal/cmd/ghapp-bench [flags]\n\nMeasures git-credential-ghapp as git runs it, against a fake GitHub on 127.0.0.1.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case cfg.N < 1:
		return cfg, errors.New("-n must be at least 1")
	case cfg.ColdRuns < 1:
		return cfg, errors.New("-cold must be at least 1")
	case cfg.Concurrency < 1:
		return cfg, errors.New("-concurrency must be at least 1")
	case cfg.Pairs < 1:
		return cfg, errors.New("-pairs must be at least 1")
	case cfg.Latency < 0:
		return cfg, errors.New("-latency must not be negative")
	}
	return cfg, nil
}
