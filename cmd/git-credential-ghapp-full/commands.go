package main

import (
	"maps"
	"slices"
)

// sortedCommandNames lists the subcommands in name order, for --help.
func sortedCommandNames() []string { return slices.Sorted(maps.Keys(commands)) }
