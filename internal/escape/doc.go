// Package escape is where bytes corsaudit does not control (from the
// network, a discovery API, an inventory, a shard or report file, a config
// typo) are escaped for the medium they are written to, once, at the
// boundary:
//
//   - Shell quotes one word of a command line for a POSIX shell (every word
//     of a printed curl command);
//   - Text and Lines sanitise what reaches a terminal or a text report (C0
//     and C1 controls, bidirectional overrides, invalid UTF-8), and Writer
//     applies Lines to everything written to a stream (standard error).
//
// HTML goes through html/template (and ValidUTF8), JSON through encoding/json, XML through
// encoding/xml and metrics through the Prometheus text encoder; the
// threat model (docs/threat-model.md) lists every medium.
package escape
