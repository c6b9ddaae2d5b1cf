package main

import (
	"fmt"
	"os"
	"strings"
)

// beforeSections are the parts of an earlier report that show what a change
// bought: the figures against the floor and the targets.
var beforeSections = []string{"## API latency", "## Against the floor", "## Targets"}

// readBefore returns the sections of the report at path (a BENCHMARKS.md
// written by an earlier run) that the new report repeats under "Before",
// one level down, with the commit and date that run measured.
func readBefore(path string) (string, error) {
	raw, err := os.ReadFile(path) //nolint:gosec // G304: a report the user names.
	if err != nil {
		return "", err
	}
	text := string(raw)
	// The run's own environment: not that of the report's "Before".
	environment, _, _ := strings.Cut(text, "\n## Before")
	var b strings.Builder
	for _, line := range strings.Split(environment, "\n") {
		if strings.HasPrefix(line, "| Provider | commit ") || strings.HasPrefix(line, "| Date (UTC) |") || strings.HasPrefix(line, "| CLI |") {
			if b.Len() == 0 {
				b.WriteString("| | |\n|---|---|\n")
			}
			b.WriteString(line + "\n")
		}
	}
	b.WriteString("\n")
	found := 0
	for _, heading := range beforeSections {
		for _, section := range sectionsStarting(text, heading) {
			b.WriteString("#" + section + "\n")
			found++
		}
	}
	if found == 0 {
		return "", fmt.Errorf("%s has none of the sections %s", path, strings.Join(beforeSections, ", "))
	}
	return b.String(), nil
}

// sectionsStarting returns each "## " section of text whose heading starts
// with prefix, up to the next "## " heading.
func sectionsStarting(text, prefix string) []string {
	var out []string
	parts := strings.Split("\n"+text, "\n## ")
	for _, p := range parts[1:] {
		if section := "## " + p; strings.HasPrefix(section, prefix) {
			out = append(out, strings.TrimRight(section, "\n")+"\n")
		}
	}
	return out
}
