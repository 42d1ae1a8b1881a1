package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version, when set at build time with -ldflags "-X main.version=v1.2.3",
// wins over the build info.
var version string

// buildVersion is what `corsaudit version` says about this binary.
type buildVersion struct {
	// Version is the module version: -ldflags' version, else the one `go
	// install module@version` (or a build in a VCS checkout, Go 1.24 and
	// later) recorded, else "dev".
	Version  string
	Revision string // VCS revision, when recorded
	Time     string // VCS commit time
	Modified bool   // the work tree had uncommitted changes
	Go       string // Go toolchain version
}

// readVersion reads this binary's version.
func readVersion() buildVersion {
	info, ok := debug.ReadBuildInfo()
	return versionOf(version, info, ok)
}

// versionOf is the version of a binary built with ldflags (may be empty)
// and the build info (ok false when the binary has none).
func versionOf(ldflags string, info *debug.BuildInfo, ok bool) buildVersion {
	v := buildVersion{Version: ldflags}
	if ok && info != nil {
		if v.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v.Version = info.Main.Version
		}
		v.Go = info.GoVersion
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.time":
				v.Time = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	return v
}

// String is the one line `corsaudit --version` and `corsaudit version`
// print (after "corsaudit "): "v1.2.3 (revision 0a1b2c3d4e5f, 2026-12-01T10:00:00Z, go1.25.0)".
func (v buildVersion) String() string {
	s := v.Version
	extra := ""
	if v.Revision != "" {
		extra = "revision " + v.Revision
		if v.Modified {
			extra += " (modified)"
		}
		if v.Time != "" {
			extra += ", " + v.Time
		}
	}
	if v.Go != "" {
		if extra != "" {
			extra += ", "
		}
		extra += v.Go
	}
	if extra != "" {
		s += " (" + extra + ")"
	}
	return s
}

// reportVersion is the version written in reports: the module version,
// or "dev" with the revision when only that is known.
func reportVersion() string {
	v := readVersion()
	if v.Version == "dev" && v.Revision != "" {
		rev := v.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if v.Modified {
			rev += "-modified"
		}
		return "dev-" + rev
	}
	return v.Version
}

// newCmdVersion is `corsaudit version`, which prints what --version does.
func newCmdVersion(ios iostreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, VCS revision and Go version of this binary",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(ios.out, "corsaudit %s\n", readVersion())
			return err
		},
	}
}
