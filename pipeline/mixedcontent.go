package pipeline

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// MixedContentWarning is the warning for a target whose public URL a
// browser blocks as mixed content (cors.MixedContent) from some of the
// policy's origins, or "" when it has none. It is a warning about the
// config, logged once per target rather than a finding: every instance is
// still probed, and the verdicts say what they answer, but pages on those
// origins cannot call the target at that URL whatever it answers.
func MixedContentWarning(target, rawURL string, origins []string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	var blocked []string
	for _, o := range origins {
		if _, ok := cors.MixedContent(o, u); ok {
			blocked = append(blocked, o)
		}
	}
	if len(blocked) == 0 {
		return ""
	}
	return fmt.Sprintf("warning: target %s: browsers block every fetch() to %s from a page on %s (mixed content: an https page may not call an http URL); use the https URL users call, or an http origin",
		target, rawURL, strings.Join(blocked, ", "))
}
