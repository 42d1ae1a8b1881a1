package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/corsaudit/corsaudit/diff/render"
	"github.com/corsaudit/corsaudit/internal/escape"
)

// Exit codes (DESIGN.md).
const (
	exitClean      = 0 // no finding at or above --fail-on
	exitFindings   = 1 // findings at or above --fail-on (check: blocked)
	exitUsage      = 2 // usage or config error
	exitIncomplete = 3 // discovery or audit could not complete
)

// exitError carries an exit code up to main. Commands return it; nothing
// below main calls os.Exit.
type exitError struct {
	code int
	err  error // nil: exit silently with code (the report said it all)
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError marks bad flags, arguments or config (exit 2).
func usageError(err error) error { return &exitError{code: exitUsage, err: err} }

// incompleteError marks a run that could not complete (exit 3).
func incompleteError(err error) error { return &exitError{code: exitIncomplete, err: err} }

// iostreams are the standard streams, injectable for tests.
type iostreams struct {
	in          io.Reader
	out, errOut io.Writer
	// progress is standard error as it is, for the progress bar's own
	// control sequences; everything else goes to errOut, which execute
	// makes a sanitising writer (escape.Writer).
	progress      io.Writer
	outIsTerminal bool
	errIsTerminal bool
}

func main() { os.Exit(run()) }

// stopSignals end a run as Ctrl-C does: the partial report is written,
// `lab` stops its proxy and removes its files, `serve` shuts down. SIGHUP
// is the terminal closing, except for a command that set onHangup.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// onHangup, when set, is called on SIGHUP instead of stopping the command:
// `serve` reloads its config, as Prometheus does.
var onHangup atomic.Pointer[func()]

// notifyStop returns a context that ends at the first stop signal (a
// SIGHUP only when onHangup is unset), and the function that stops
// listening.
func notifyStop() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, stopSignals...)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case s := <-sigs:
				if f := onHangup.Load(); s == syscall.SIGHUP && f != nil {
					(*f)()
					continue
				}
				cancel()
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

func run() int {
	ctx, stop := notifyStop()
	defer stop()
	ios := iostreams{in: os.Stdin, out: os.Stdout, errOut: os.Stderr,
		outIsTerminal: isTerminal(os.Stdout), errIsTerminal: isTerminal(os.Stderr)}
	return execute(ctx, ios, os.Args[1:])
}

// execute runs the command line args and maps the outcome to an exit code,
// in this one place.
func execute(ctx context.Context, ios iostreams, args []string) int {
	// Standard error carries log lines, notes and error messages quoting
	// names, ids and bytes from the network or files: whoever writes
	// there, a terminal receives no control it would act on.
	ios.progress = ios.errOut
	ios.errOut = escape.Writer(ios.errOut)
	root := newRootCmd(ios)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitClean
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(ios.errOut, "corsaudit: %v\n", ee.err)
		}
		return ee.code
	}
	// Anything cobra itself rejects (unknown flag, bad args) is a usage error.
	fmt.Fprintf(ios.errOut, "corsaudit: %v\n", err)
	return exitUsage
}

func newRootCmd(ios iostreams) *cobra.Command {
	root := &cobra.Command{
		Use:           "corsaudit",
		Short:         "Audit the CORS behaviour of every instance behind a load balancer",
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       readVersion().String(),
	}
	root.SetVersionTemplate("corsaudit {{.Version}}\n")
	root.Flags().BoolP("version", "v", false, "print the version, VCS revision and Go version (same as the version command)")
	root.SetOut(ios.out)
	root.SetErr(ios.errOut)
	root.SetIn(ios.in)
	root.SetFlagErrorFunc(flagError)
	// Each command: newCmdX(ios, runF); runF nil means the real run.
	root.AddCommand(
		newCmdAudit(ios, nil),
		newCmdDemo(ios, nil),
		newCmdDiscover(ios, nil),
		newCmdConfig(ios),
		newCmdGate(ios, nil),
		newCmdCheck(ios, nil),
		newCmdLab(ios, nil),
		newCmdMerge(ios, nil),
		newCmdProviders(ios, nil),
		newCmdSchema(ios),
		newCmdServe(ios, nil),
		newCmdVersion(ios),
		newCmdMan(ios),
	)
	registerCompletions(root)
	return root
}

// colour reports whether a report written to output ("" or "-": stdout)
// may use colour: it goes to a terminal and NO_COLOR is not set.
func (ios iostreams) colour(output string) bool {
	return render.UseColor(ios.outIsTerminal && (output == "" || output == "-"), os.Getenv)
}

// progressOut is where the progress bar draws: standard error as it is.
func (ios iostreams) progressOut() io.Writer {
	if ios.progress != nil {
		return ios.progress
	}
	return ios.errOut
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
