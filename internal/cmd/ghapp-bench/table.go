package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints the report for people: the cached-get comparison, the round trips, the
// concurrent gets and one PASS or MISS line per target.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "git-credential-ghapp performance: %s\n", r.Command)
	fmt.Fprintf(w, "%s; %s; %s; helper: %s\n", r.Machine, r.Go, r.Git, r.Helper)
	fmt.Fprintf(w, "fake GitHub on 127.0.0.1 adds %g ms to every API answer\n", r.LatencyMS)

	fmt.Fprintf(w, "\nCached get (a valid token in the cache), %d process runs each, alternating:\n", r.N)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  \tmedian\tp90\tmin\tpeak RSS\tpage faults\tvs store\t")
	for _, t := range r.Cached {
		fmt.Fprintf(tw, "  %s\t%.2f ms\t%.2f ms\t%.2f ms\t%.1f MiB\t%d\t%.2fx\t\n", t.Name, t.MedianMS, t.P90MS, t.MinMS, float64(t.MaxRSSKiB)/1024, t.MinorFaults, t.Ratio)
	}
	tw.Flush()
	fmt.Fprintf(w, "  page faults: the median of each process's minor faults; the floor row is what starting any Go program costs on this machine\n")
	if r.RSSFloorKiB > 0 {
		fmt.Fprintf(w, "  peak RSS is measured through a launcher whose own floor is %.1f MiB (/bin/true measures that)\n", float64(r.RSSFloorKiB)/1024)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}

	fmt.Fprintf(w, "\nRound trips to GitHub (API calls the fake counted per get):\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  \truns\tAPI calls\tmints\tmedian\t")
	for _, rt := range r.RoundTrips {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%.1f ms\t\n", rt.Name, rt.Runs, rt.APICalls, rt.Mints, rt.MedianMS)
	}
	tw.Flush()

	c := r.Concurrent
	fmt.Fprintf(w, "\n%d concurrent cold gets for %s, one shared cache:\n", c.Callers, repoName)
	fmt.Fprintf(w, "  mints %d, discoveries %d, API calls %d, distinct tokens handed out %d\n", c.Mints, c.Discoveries, c.APICalls, c.Tokens)
	fmt.Fprintf(w, "  request to exit: median %.0f ms, max %.0f ms = %.2fx a lone cold get (%.0f ms); round trip %g ms\n",
		c.MedianMS, c.MaxMS, c.MaxOverLone, c.LoneColdMS, c.RoundTripMS)

	h := r.Handover
	fmt.Fprintf(w, "\nA miss through the front vs on the full helper directly (cold gets with --installation-id, %d pairs, alternating):\n", h.Pairs)
	fmt.Fprintf(w, "  the fake adds no latency here: it is the same in both gets of a pair and would only add noise to their difference\n")
	fmt.Fprintf(w, "  front %.1f ms, full helper %.1f ms: the hand-over adds %+.2f ms (median of the pairs' differences)\n", h.FrontMS, h.FullMS, h.ExtraMS)
	fmt.Fprintf(w, "  differences: middle half %+.2f to %+.2f ms; 95%% confidence interval of the median %+.2f to %+.2f ms\n", h.ExtraP25MS, h.ExtraP75MS, h.ExtraLowMS, h.ExtraHighMS)

	fmt.Fprintf(w, "\nTargets (issues 5 and 10; counted ones fail the run, timings are reported only):\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range r.Targets {
		verdict := "PASS"
		if !t.Pass {
			verdict = "MISS"
		}
		kind := "reported"
		if t.Counted {
			kind = "counted"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t(%s)\n", verdict, t.Name, t.Want, t.Got, kind)
	}
	tw.Flush()
}
