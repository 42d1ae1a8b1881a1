package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/diff/render"
	"github.com/corsaudit/corsaudit/internal/plural"
	"github.com/corsaudit/corsaudit/pipeline"
)

// writeJSON writes v as indented JSON to path (atomically), or to stdout
// when path is "" or "-".
func writeJSON(stdout io.Writer, path string, v any) error {
	write := func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	if path == "" || path == "-" {
		return write(stdout)
	}
	return render.WriteFileAtomic(path, write)
}

// runDiscoverInventory is `discover --format json`: the inventory that
// `audit --inventory --shard` and `merge` work from.
func runDiscoverInventory(cmd *cobra.Command, ios iostreams, opts *discoverOptions) error {
	if err := checkOutputs(opts.Output); err != nil {
		return usageError(fmt.Errorf("discover: %w", err))
	}
	built, err := opts.audit.prepareDiscovery() // discover sends nothing: no secret is read
	if err != nil {
		return err
	}
	inv, derr := pipeline.DiscoverInventory(cmd.Context(), built, version, ios.errOut)
	if inv == nil {
		return usageError(derr)
	}
	if err := writeJSON(ios.out, opts.Output, inv); err != nil {
		return incompleteError(fmt.Errorf("discover: %w", err))
	}
	if opts.Output != "" && opts.Output != "-" {
		n := 0
		for _, t := range inv.Targets {
			n += len(t.Instances)
		}
		fmt.Fprintf(ios.errOut, "corsaudit: wrote %s: inventory of %s, %s\n", opts.Output,
			plural.Count(len(inv.Targets), "target"), plural.Count(n, "instance"))
	}
	if derr != nil {
		return incompleteError(derr)
	}
	return nil
}

// runShardAudit is `audit --inventory FILE --shard K/N`: probe this
// shard's share of the inventory and write its observations (no findings:
// `corsaudit merge` decides over all shards).
func runShardAudit(cmd *cobra.Command, ios iostreams, o *auditOptions) error {
	switch {
	case o.Inventory == "" || o.Shard == "":
		return usageError(errors.New("audit: --inventory and --shard go together (--shard K/N, K from 0 to N-1)"))
	case o.ConfigFile != "" || o.URL != "" || len(o.Instances) > 0:
		return usageError(errors.New("audit: --inventory carries the config: give no --config, URL or --instance with it"))
	case o.Format != "" && o.Format != "json":
		return usageError(fmt.Errorf("audit: a shard writes JSON observations, not --format %s (merge the shards to render a report)", o.Format))
	case o.MetricsFile != "":
		return usageError(errors.New("audit: a shard writes no metrics; give --metrics-file to `corsaudit merge`"))
	}
	k, n, err := pipeline.ParseShard(o.Shard)
	if err != nil {
		return usageError(fmt.Errorf("audit: --%w", err))
	}
	if err := checkOutputs(o.Output); err != nil {
		return usageError(fmt.Errorf("audit: %w", err))
	}
	f, err := os.Open(o.Inventory)
	if err != nil {
		return usageError(fmt.Errorf("audit: read inventory: %w", err))
	}
	inv, err := pipeline.ReadInventory(pipeline.Bounded(f))
	f.Close()
	if err != nil {
		return usageError(fmt.Errorf("audit: %s: %w", o.Inventory, err))
	}
	cfg, err := inv.ParseConfig()
	if err == nil {
		cfg, err = overlaySettings(cfg, o.flags)
	}
	var built *config.Built
	if err == nil {
		built, err = cfg.Build() // this machine's secrets and certificates, never the inventory's
	}
	if err != nil {
		return usageError(fmt.Errorf("audit: %s: invalid config:\n%w", o.Inventory, indent(err)))
	}
	popt := pipeline.ShardOptions{Log: ios.errOut, Version: reportVersion()}
	if o.Quiet {
		popt.Log = io.Discard
	}
	if o.Verbose {
		popt.Sent = logRequest(ios.errOut)
	}
	var bar *progressBar
	if ios.errIsTerminal && !o.Quiet {
		bar = newProgressBar(ios.progressOut())
		popt.Progress = bar.update
	}
	s, runErr := pipeline.AuditShard(cmd.Context(), inv, built, k, n, popt)
	if bar != nil {
		bar.finish()
	}
	if s == nil {
		return usageError(runErr)
	}
	if err := writeJSON(ios.out, o.Output, s); err != nil {
		return incompleteError(fmt.Errorf("audit: %w", err))
	}
	if runErr != nil {
		return incompleteError(runErr)
	}
	return nil
}

// mergeInputs reads merge's inputs: all JSON reports, or all shards.
func mergeInputs(stdin io.Reader, paths []string) ([]*diff.Report, []pipeline.NamedShard, error) {
	var reports []*diff.Report
	var shards []pipeline.NamedShard
	for _, path := range paths {
		data, err := readInput(stdin, path)
		if err != nil {
			return nil, nil, err
		}
		var head struct {
			FileKind string `json:"kind"`
		}
		_ = json.Unmarshal(data, &head) // not JSON: decodeReport says so
		if head.FileKind == pipeline.FileKindShard {
			s, err := pipeline.ReadShard(bytes.NewReader(data))
			if err != nil {
				return nil, nil, fmt.Errorf("merge: read %s: %w", path, err)
			}
			shards = append(shards, pipeline.NamedShard{Name: path, Shard: s})
			continue
		}
		r, err := decodeReport(bytes.NewReader(data), path)
		if err != nil {
			return nil, nil, err
		}
		reports = append(reports, r)
	}
	if len(reports) > 0 && len(shards) > 0 {
		return nil, nil, fmt.Errorf("merge: %s is a shard and the other inputs are reports: merge the shards first, then the reports", shards[0].Name)
	}
	return reports, shards, nil
}

// readInput reads one of merge's inputs ("-": stdin), bounded: a shard
// or report is read, not trusted, and /dev/zero is no input.
func readInput(stdin io.Reader, path string) ([]byte, error) {
	in := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("merge: read %s: %w", path, err)
		}
		defer f.Close()
		in = f
	}
	data, err := pipeline.ReadAll(in)
	if err != nil {
		return nil, fmt.Errorf("merge: read %s: %w", path, err)
	}
	return data, nil
}

// mergeShards merges the shards of one audit; the report carries the
// config's fail_on.
func mergeShards(shards []pipeline.NamedShard) (*diff.Report, error) {
	rep, _, err := pipeline.MergeShards(shards)
	if err != nil {
		return nil, usageError(err)
	}
	return rep, nil
}

// mergeEnd is when a complete merged run succeeded: the end of its last
// input, else now.
func mergeEnd(r *diff.Report) time.Time {
	if end := r.End(); !end.IsZero() {
		return end
	}
	return time.Now()
}
