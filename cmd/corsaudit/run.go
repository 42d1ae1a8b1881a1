package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/pipeline"
)

// The names below keep demo.go and lab_test.go building until they use
// config.Config and pipeline.Run directly (helper D's move of the lab).
type (
	// Config is config.Config with the two-result Validate demo.go calls.
	Config       struct{ config.Config }
	TargetConfig = config.Target
	DirectConfig = config.Direct
	LBConfig     = config.LB
	PolicyConfig = config.Policy
	builtTarget  = config.BuiltTarget
)

// DefaultConfig is config.Default, for demo.go.
var DefaultConfig = Config{config.Default()}

// Validate validates and builds the config.
func (c *Config) Validate() ([]builtTarget, error) { return c.Config.Build() }

// loadConfig is loadSettings for lab_test.go.
func loadConfig(path string, fs *pflag.FlagSet) (*Config, error) {
	c, err := loadSettings(path, fs)
	if err != nil {
		return nil, err
	}
	return &Config{*c}, nil
}

// errIncomplete is pipeline.ErrIncomplete, for demo.go.
var errIncomplete = pipeline.ErrIncomplete

// auditRun is pipeline.Run with its options, for demo.go.
type auditRun struct {
	cfg     *Config
	built   []builtTarget // unused: pipeline.Run builds the config
	diffOpt diff.Options
	log     io.Writer
}

func (a *auditRun) run(ctx context.Context) (*diff.Report, error) {
	return pipeline.Run(ctx, &a.cfg.Config, pipeline.Options{Diff: a.diffOpt, Log: a.log, Version: reportVersion()})
}

// progressBar draws "probing [=====>    ] 1234/5000 probes" on a terminal.
type progressBar struct {
	mu   sync.Mutex
	w    io.Writer
	last time.Time
}

func newProgressBar(w io.Writer) *progressBar { return &progressBar{w: w} }

func (b *progressBar) update(done, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if done != total && time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	const width = 30
	filled := int(float64(width) * float64(done) / float64(max(total, 1)))
	fmt.Fprintf(b.w, "\rprobing [%s%s] %d/%d probes", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total)
}

func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprint(b.w, "\r\033[K")
}
