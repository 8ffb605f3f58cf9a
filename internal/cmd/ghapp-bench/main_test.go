package main

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestRunSmall runs the whole benchmark with tiny counts: it builds the helper, starts the fake
// GitHub and must meet every counted target (round trips, one mint for concurrent gets).
// Timings are checked only for being measured, never for their size.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the helper and runs it as processes")
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-n", "3", "-cold", "1", "-latency", "5ms", "-concurrency", "4", "-pairs", "2", "-json", "-q"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("-q printed on stderr: %s", stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("-json output does not decode: %v\n%s", err, stdout.String())
	}
	if len(rep.Cached) < 2 || rep.Cached[0].Runs != 3 || rep.Cached[0].MedianMS <= 0 || rep.Cached[0].Ratio <= 0 {
		t.Errorf("cached-get rows are incomplete: %+v", rep.Cached)
	}
	foundStore, foundFloor := false, false
	for _, c := range rep.Cached {
		switch c.Command {
		case "git credential-store --file F get":
			foundStore = c.Ratio == 1
		case "go run ./internal/cmd/ghapp-bench/floor":
			foundFloor = c.Runs == 3 && c.Ratio > 0
		}
		if runtime.GOOS != "windows" && c.MinorFaults <= 0 {
			t.Errorf("%s: no page faults counted", c.Name)
		}
	}
	if !foundStore {
		t.Errorf("no git credential-store row with ratio 1: %+v", rep.Cached)
	}
	if !foundFloor {
		t.Errorf("no row for the floor program: %+v", rep.Cached)
	}
	if h := rep.Handover; h.Pairs != 2 || h.FrontMS <= 0 || h.FullMS <= 0 || h.ExtraP25MS > h.ExtraMS || h.ExtraMS > h.ExtraP75MS || h.ExtraLowMS > h.ExtraMS || h.ExtraMS > h.ExtraHighMS {
		t.Errorf("the miss hand-over was not measured: %+v", h)
	}
	want := map[string][2]int{ // API calls, mints (each mint also checks that GitHub accepts the token)
		"cold get (empty cache)":         {3, 1},
		"installation cached, token not": {2, 1},
		"--installation-id, empty cache": {2, 1},
		"cache hit":                      {0, 0},
	}
	for _, r := range rep.RoundTrips {
		w, ok := want[r.Name]
		if !ok {
			t.Errorf("unexpected round-trip row %q", r.Name)
			continue
		}
		delete(want, r.Name)
		if r.APICalls != w[0] || r.Mints != w[1] {
			t.Errorf("%s: %d API calls, %d mints; want %d, %d", r.Name, r.APICalls, r.Mints, w[0], w[1])
		}
	}
	if len(want) > 0 {
		t.Errorf("missing round-trip rows: %v", want)
	}
	c := rep.Concurrent
	if c.Callers != 4 || c.Mints != 1 || c.Tokens != 1 || c.MaxMS < c.MedianMS || c.MedianMS <= 0 {
		t.Errorf("concurrent gets: %+v", c)
	}
	if !rep.CountsPass() {
		t.Errorf("a counted target was missed: %+v", rep.Targets)
	}
	if rep.Cached[0].MaxRSSKiB > 0 && rep.RSSFloorKiB <= 0 {
		t.Errorf("peak RSS measured without its floor: %+v", rep)
	}

	var table bytes.Buffer
	rep.WriteTable(&table)
	for _, s := range []string{"git credential-store get", "floor: a Go program", "page faults", "cold get (empty cache)", "PASS  cold get round trips", "4 concurrent cold gets"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, table.String())
		}
	}
}

func TestCountsPassAndTable(t *testing.T) {
	rep := &Report{Targets: []Target{
		{Name: "timing", Want: "<= 1.25x", Got: "2x", Pass: false},
		{Name: "round trips", Want: "<= 2", Got: "2", Pass: true, Counted: true},
	}}
	if !rep.CountsPass() {
		t.Error("a missed timing target must not fail the run")
	}
	rep.Targets = append(rep.Targets, Target{Name: "mints", Want: "1", Got: "2", Counted: true})
	if rep.CountsPass() {
		t.Error("a missed counted target must fail the run")
	}
	var b bytes.Buffer
	rep.WriteTable(&b)
	if !strings.Contains(b.String(), "MISS  mints") || !strings.Contains(b.String(), "PASS  round trips") || !strings.Contains(b.String(), "MISS  timing") {
		t.Errorf("table:\n%s", b.String())
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, x := range n {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	for _, tc := range []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{ms(5, 1, 3), 50, 3 * time.Millisecond},
		{ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 90, 9 * time.Millisecond},
		{ms(7), 90, 7 * time.Millisecond},
		{nil, 50, 0},
	} {
		if got := percentile(tc.in, tc.p); got != tc.want {
			t.Errorf("percentile(%v, %v) = %v; want %v", tc.in, tc.p, got, tc.want)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"-n", "0"}, {"-cold", "0"}, {"-concurrency", "0"}, {"-pairs", "0"}, {"-latency", "-1s"}, {"extra"}, {"-nosuchflag"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d; want 2 (stderr %q)", args, code, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("%v printed on stdout: %q", args, stdout.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "-concurrency") {
		t.Errorf("-h: exit %d, stderr %q", code, stderr.String())
	}
}

func TestMedianCI(t *testing.T) {
	seq := func(from, to int) []time.Duration {
		var d []time.Duration
		for x := to; x >= from; x-- { // unsorted on purpose
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	for _, tc := range []struct {
		in     []time.Duration
		lo, hi time.Duration
	}{
		{seq(1, 100), 40 * time.Millisecond, 61 * time.Millisecond}, // the binomial table's ranks for n = 100
		{seq(1, 200), 86 * time.Millisecond, 115 * time.Millisecond},
		{seq(1, 3), 1 * time.Millisecond, 3 * time.Millisecond},
		{seq(5, 5), 5 * time.Millisecond, 5 * time.Millisecond},
		{nil, 0, 0},
	} {
		if lo, hi := medianCI(tc.in); lo != tc.lo || hi != tc.hi {
			t.Errorf("medianCI(%d values) = %v, %v; want %v, %v", len(tc.in), lo, hi, tc.lo, tc.hi)
		}
	}
}
