package exporter

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
)

// lineLog turns the lines the pipeline writes to its log ("corsaudit:
// shop: 3 instances, 12 probes") into structured records, one per line.
type lineLog struct {
	log *slog.Logger

	mu  sync.Mutex
	buf []byte
}

func newLineLog(log *slog.Logger) *lineLog { return &lineLog{log: log} }

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimPrefix(string(l.buf[:i]), "corsaudit: "); line != "" {
			l.log.Info(line)
		}
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}
